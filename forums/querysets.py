"""Reusable reads. Each page gets one `for_<page>()` that loads what its template uses."""

from django.db import models


class SectionQuerySet(models.QuerySet):
    def for_navigation(self):
        return self.only("name", "slug", "position")


class ForumQuerySet(models.QuerySet):
    def main(self):
        return self.filter(kind="main")

    def featured(self):
        return self.filter(is_featured=True)

    def with_last_post(self):
        return self.select_related("last_post__author", "last_post__thread")

    def for_navigation(self):
        return self.featured().only("name", "slug", "position")

    def for_listing(self):
        """Forums with what a forum row shows: counts and the last post with its author."""
        return self.with_last_post().select_related("section")


class ThreadQuerySet(models.QuerySet):
    def pinned_first(self):
        return self.order_by("-is_pinned", "-last_activity_at", "-id")

    def newest(self):
        return self.order_by("-created_at", "-id")

    def with_people(self):
        return self.select_related("author", "last_poster")

    def for_forum_page(self, forum):
        return self.filter(forum=forum).pinned_first().with_people()

    def for_latest(self):
        return self.newest().with_people().select_related("forum")

    def for_detail(self):
        return self.select_related("forum__section")


class PostQuerySet(models.QuerySet):
    def replies(self):
        return self.filter(parent__isnull=False)

    def in_tree_order(self):
        return self.order_by("tree_path")

    def for_reply_index(self, thread):
        """The thread's replies, tree-ordered, with only what an index line shows."""
        return (
            self.filter(thread=thread)
            .replies()
            .in_tree_order()
            .select_related("author")
            .only(
                "number", "depth", "subject", "created_at", "parent_id", "thread_id",
                "author__username", "author__display_name",
            )
        )

    def for_full_text(self, thread):
        """The thread's replies with their bodies, tree-ordered, for "View all"."""
        return (
            self.filter(thread=thread)
            .replies()
            .in_tree_order()
            .select_related("author")
            .annotate(parent_number=models.F("parent__number"))
        )

    def for_profile(self, author):
        return (
            self.filter(author=author)
            .order_by("-created_at", "-id")
            .select_related("thread__forum")
        )


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_inbox(self, member):
        return (
            self.filter(recipient=member)
            .order_by("-created_at", "-id")
            .select_related("actor", "post__thread")
        )
