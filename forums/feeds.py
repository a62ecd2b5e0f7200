"""RSS and Atom feeds of new threads, with Django's syndication framework."""

import re

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from .models import Community, Forum, PollOption, Post, Thread

FEED_ITEMS = 30

# XML 1.0 cannot carry these, and Django's feed writer fails the whole feed on one; a
# member can type them into a title or a post, so they are left out of feeds.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


# Posts link to the site's own pages and pictures by path (src="/pictures/7/",
# href="/u/name/"); a feed is read away from the site, where a path leads nowhere.
# Only attributes inside tags change: the pipeline escapes "<" in text, so a "<"
# starts a real tag, and it writes every attribute in double quotes.
_TAG = re.compile(r"<[a-z][^<>]*>")
_SITE_PATH = re.compile(r'\s(src|href)="/(?!/)')


def absolute_paths(html: str, site_root: str) -> str:
    """`html` with the site's own paths made full addresses under `site_root`."""
    def in_tag(tag):
        return _SITE_PATH.sub(lambda match: f' {match[1]}="{site_root}/', tag[0])

    return _TAG.sub(in_tag, html)


def _site_name():
    community = Community.objects.first()
    return community.name if community else "Grassroots"


class _ThreadFeed(Feed):
    """Items are threads; each carries its opening post's HTML, which the one
    rendering pipeline made safe when it was written."""

    def _opening_posts(self, threads):
        threads = list(threads)
        # Feeds are read by anyone, like the thread page, which shows neither.
        gone = {
            "deleted": "<p>%s</p>" % _("This post was deleted by its author."),
            "hidden": "<p>%s</p>" % _("This post was hidden by a jury of members."),
        }
        bodies = {
            thread_id: gone["deleted"] if is_deleted else gone["hidden"] if is_hidden else body_html
            for thread_id, body_html, is_deleted, is_hidden in Post.objects.filter(
                thread__in=threads, number=0
            ).values_list("thread_id", "body_html", "is_deleted", "is_hidden")
        }
        shown = {thread.pk for thread in threads if thread.has_poll} & {
            thread_id for thread_id, body in bodies.items() if body not in gone.values()
        }
        polls = self._polls(shown)
        for thread in threads:
            thread.opening_html = bodies.get(thread.pk, "") + polls.get(thread.pk, "")
        return threads

    def _polls(self, thread_ids) -> dict[int, str]:
        """Each poll as text under its opening post: the question and the options, no
        counts (results may be for voters only). One query for all of them."""
        if not thread_ids:
            return {}
        polls: dict[int, tuple[str, list[str]]] = {}
        for thread_id, question, text in PollOption.objects.filter(poll__in=thread_ids).order_by(
            "poll", "position"
        ).values_list("poll_id", "poll__question", "text"):
            polls.setdefault(thread_id, (question, []))[1].append(text)
        return {
            thread_id: format_html(
                "<p>{}</p><ul>{}</ul>", _("Poll: %(question)s") % {"question": question},
                format_html_join("", "<li>{}</li>", ((text,) for text in options)),
            )
            for thread_id, (question, options) in polls.items()
        }

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        site_root = request.build_absolute_uri("/").rstrip("/")
        for item in feed.items:
            item["description"] = absolute_paths(item["description"], site_root)
        return feed

    def item_title(self, item):
        return xml_text(item.title)

    def item_description(self, item):
        return xml_text(item.opening_html)

    def item_author_name(self, item):
        return xml_text(item.author.public_name)

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.last_activity_at

    def item_link(self, item):
        return item.get_absolute_url()


class ForumFeed(_ThreadFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Forum, slug=slug)

    def title(self, forum):
        return _("%(forum)s – %(site)s") % {"forum": forum.name, "site": _site_name()}

    def link(self, forum):
        return forum.get_absolute_url()

    def description(self, forum):
        return forum.purpose

    def items(self, forum):
        threads = (
            Thread.objects.filter(forum=forum).newest().select_related("author")[:FEED_ITEMS]
        )
        return self._opening_posts(threads)


class ForumAtomFeed(ForumFeed):
    feed_type = Atom1Feed
    subtitle = ForumFeed.description


class LatestFeed(_ThreadFeed):
    def title(self):
        return _("Latest threads – %(site)s") % {"site": _site_name()}

    def link(self):
        return reverse("forums:latest")

    def description(self):
        return _("The newest threads in every forum.")

    def items(self):
        return self._opening_posts(Thread.objects.newest().select_related("author")[:FEED_ITEMS])


class LatestAtomFeed(LatestFeed):
    feed_type = Atom1Feed
    subtitle = LatestFeed.description
