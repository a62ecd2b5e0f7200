"""The forums' rows in the admin: what staff may edit directly, and what they may only
see because forums.services keeps it. Moderation (locking, pinning, hiding, blocks,
hosts) adds its actions in moderation/admin.py, so this app imports nothing of it."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin import PositionedAdmin

from . import services
from .models import Community, Forum, Picture, Post, Section, Thread


class ServicesOwnRowsMixin:
    """For models whose rows only forums.services may create, delete or restructure
    (threads and posts): the admin shows them, edits the few plain fields left
    editable, and acts on them through the services' actions."""

    def has_add_permission(self, request):
        # A thread needs its opening post and counted forum; a post needs its number
        # and tree path: thread_create and reply_create make them.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting rows would leave forum and thread counters and reply numbers behind.
        return False

    def save_model(self, request, obj, form, change):
        # Only the fields the form changed: a full save would write back counters and
        # last-activity columns read before the form was sent, undoing posts made since.
        obj.save(update_fields=form.changed_data)


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "tagline"]

    def has_add_permission(self, request):
        # One community per site: the seeds create it, staff edit it.
        return not Community.objects.exists()


admin.site.register(Section, PositionedAdmin)


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "section", "is_featured", "position", "thread_count", "post_count"]
    list_filter = ["kind", "section", "is_featured"]
    list_editable = ["is_featured", "position"]
    list_select_related = ["section"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["hosts"]
    readonly_fields = ["thread_count", "post_count", "last_post", "last_post_at"]


@admin.register(Thread)
class ThreadAdmin(ServicesOwnRowsMixin, admin.ModelAdmin):
    list_display = ["title", "forum", "author", "reply_count", "is_pinned", "is_locked", "last_activity_at"]
    list_filter = ["is_pinned", "is_locked", "forum"]
    list_select_related = ["forum", "author"]
    search_fields = ["title"]
    # Moving a thread is moderation.services.thread_move (it moves the forums' counters
    # and logs the move); the title changes with its opening post's subject
    # (forums.services.post_edit keeps the slug, the subject and the search index in
    # step); the rest is counted or kept by forums.services.
    readonly_fields = [
        "title", "slug", "forum", "author", "reply_count", "recommendation_count", "view_count",
        "last_activity_at", "last_poster", "created_at", "is_locked", "is_pinned", "lock_notice",
    ]


@admin.register(Post)
class PostAdmin(ServicesOwnRowsMixin, admin.ModelAdmin):
    list_display = ["subject", "thread", "number", "author", "created_at", "is_hidden"]
    list_filter = ["is_hidden", "is_deleted"]
    list_select_related = ["thread", "author"]
    search_fields = ["subject"]
    # Post HTML comes only from forums.rendering via the services, and a post's place
    # in its thread and its counters only from forums.services, so the admin shows
    # posts but edits none of it. The subject too: an opening post's subject is its
    # thread's title, which forums.services.post_edit keeps in step.
    readonly_fields = [
        "thread", "author", "parent", "number", "tree_path", "depth", "subject", "body",
        "body_html", "body_text", "created_at", "recommendation_count", "edited_at",
        "edit_count", "is_deleted", "is_hidden", "hidden_at",
    ]


@admin.register(Picture)
class PictureAdmin(admin.ModelAdmin):
    """Every upload with the post that shows it; staff remove one through
    services.picture_delete (its files go too). Nothing else is editable: the files
    are what forums.pictures made of the upload."""

    list_display = ["preview", "name", "owner", "post_link", "format", "width", "height", "uploaded_bytes", "created_at", "placed_at"]
    list_display_links = ["name"]
    list_filter = ["format", ("placed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["owner", "post__thread"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [
        "preview", "owner", "post", "name", "format", "display", "thumbnail", "width", "height",
        "uploaded_bytes", "created_at", "placed_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("picture"))
    def preview(self, picture):
        # Alt text: the list names the file beside it.
        return format_html('<img src="{}" alt="" width="80">', picture.get_thumbnail_url())

    @admin.display(description=_("post"), ordering="post")
    def post_link(self, picture):
        if picture.post_id is None:
            return _("private message") if picture.placed_at else _("not placed yet")
        post = picture.post
        return format_html('<a href="{}">{} #{}</a>', post.get_absolute_url(), post.thread.title, post.number)

    def delete_model(self, request, obj):
        services.picture_delete(member=request.user, picture=obj)

    def delete_queryset(self, request, queryset):
        for picture in queryset.select_related("post"):
            self.delete_model(request, picture)
