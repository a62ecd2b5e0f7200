from django.contrib import admin, messages

from moderation.services import log_host_changes, member_block, post_hide, thread_lock, thread_pin

from .models import Community, Forum, ForumBlock, Post, Section, Thread


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


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


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

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.hosts.all()) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.hosts.all())
        log_host_changes(staff=request.user, forum=form.instance, added=after - before, removed=before - after)


@admin.register(Thread)
class ThreadAdmin(ServicesOwnRowsMixin, admin.ModelAdmin):
    list_display = ["title", "forum", "author", "reply_count", "is_pinned", "is_locked", "last_activity_at"]
    list_filter = ["is_pinned", "is_locked", "forum"]
    list_select_related = ["forum", "author"]
    search_fields = ["title"]
    # Moving a thread is moderation.services.thread_move (it moves the forums' counters
    # and logs the move); the rest is counted or kept by forums.services.
    readonly_fields = [
        "forum", "author", "reply_count", "recommendation_count", "last_activity_at", "last_poster",
        "created_at", "is_locked", "is_pinned", "lock_notice",
    ]
    actions = ["lock", "unlock", "pin", "unpin"]

    def _act(self, request, queryset, service, **kwargs):
        for thread in queryset.select_related("forum"):
            service(moderator=request.user, thread=thread, **kwargs)
        self.message_user(request, "Done; the moderation log records it.", messages.SUCCESS)

    @admin.action(description="Lock selected threads")
    def lock(self, request, queryset):
        self._act(request, queryset, thread_lock, lock=True, reason="Locked by staff")

    @admin.action(description="Unlock selected threads")
    def unlock(self, request, queryset):
        self._act(request, queryset, thread_lock, lock=False)

    @admin.action(description="Pin selected threads")
    def pin(self, request, queryset):
        self._act(request, queryset, thread_pin, pin=True)

    @admin.action(description="Unpin selected threads")
    def unpin(self, request, queryset):
        self._act(request, queryset, thread_pin, pin=False)


@admin.register(ForumBlock)
class ForumBlockAdmin(admin.ModelAdmin):
    list_display = ["member", "forum", "reason", "created_at"]
    list_select_related = ["member", "forum"]
    search_fields = ["member__username", "forum__name"]
    raw_id_fields = ["member"]

    # Through the service, so that every block and unblock lands in the public log.
    def save_model(self, request, obj, form, change):
        member_block(moderator=request.user, forum=obj.forum, member=obj.member, block=True, reason=obj.reason)

    def delete_model(self, request, obj):
        member_block(moderator=request.user, forum=obj.forum, member=obj.member, block=False)

    def delete_queryset(self, request, queryset):
        for block in queryset.select_related("forum", "member"):
            self.delete_model(request, block)


@admin.register(Post)
class PostAdmin(ServicesOwnRowsMixin, admin.ModelAdmin):
    list_display = ["subject", "thread", "number", "author", "created_at", "is_hidden"]
    list_filter = ["is_hidden", "is_deleted"]
    actions = ["hide", "unhide"]

    @admin.action(description="Hide selected posts")
    def hide(self, request, queryset):
        for post in queryset.select_related("thread__forum"):
            post_hide(staff=request.user, post=post, hide=True, reason="Hidden by staff")
        self.message_user(request, "Hidden; the moderation log records it.", messages.SUCCESS)

    @admin.action(description="Show selected posts again")
    def unhide(self, request, queryset):
        for post in queryset.select_related("thread__forum"):
            post_hide(staff=request.user, post=post, hide=False)
        self.message_user(request, "Shown again; the moderation log records it.", messages.SUCCESS)
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
