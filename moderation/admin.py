from django.contrib import admin, messages

from accounts import admin as accounts_admin
from accounts.models import User
from config.admin import PositionedAdmin, ReadOnlyInline
from forums import admin as forums_admin
from forums.models import Forum, ForumBlock, Post, Thread

from .models import Alert, AlertRule, Appeal, Jury, JurySeat, ModerationAction
from .services import (
    appeal_decide, log_host_changes, log_suspension, member_block, post_hide, thread_lock, thread_pin,
)


admin.site.register(AlertRule, PositionedAdmin)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["rule", "post", "alerter", "status", "created_at"]
    list_filter = ["status", "rule"]
    list_select_related = ["rule", "post", "alerter"]
    search_fields = ["post__subject", "alerter__username", "comment"]
    readonly_fields = ["post", "rule", "alerter", "comment", "status", "created_at"]

    def has_add_permission(self, request):
        return False


class JurySeatInline(ReadOnlyInline):
    model = JurySeat
    fields = ["juror", "answer", "comment", "seated_at", "deadline_at", "answered_at", "is_replaced"]


@admin.register(Jury)
class JuryAdmin(admin.ModelAdmin):
    list_display = ["pk", "post", "is_open", "verdict", "breaks_votes", "keeps_votes", "created_at"]
    list_filter = ["is_open", "verdict"]
    list_select_related = ["post"]
    search_fields = ["post__subject"]
    readonly_fields = ["alert", "post", "is_open", "verdict", "breaks_votes", "keeps_votes", "created_at", "closed_at"]
    inlines = [JurySeatInline]

    def has_add_permission(self, request):
        return False


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    list_display = ["jury", "created_at", "decision", "decided_by"]
    list_filter = ["decision"]
    readonly_fields = ["jury", "text", "created_at", "decision", "decided_by", "decided_at"]
    actions = ["overturn", "uphold"]

    def has_add_permission(self, request):
        return False

    def _decide(self, request, queryset, overturn):
        for appeal in queryset.filter(decision=""):
            appeal_decide(staff=request.user, appeal=appeal, overturn=overturn)
        self.message_user(request, "Decided.", messages.SUCCESS)

    @admin.action(description="Overturn: show the post again")
    def overturn(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="Uphold: the post stays hidden")
    def uphold(self, request, queryset):
        self._decide(request, queryset, False)


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "role", "actor", "member", "forum", "thread", "reason"]
    list_filter = ["kind", "role"]
    list_select_related = ["actor", "member", "forum", "thread"]
    search_fields = ["reason", "actor__username", "member__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The log is the community's record: nobody edits or deletes it.
        return False


# The forums' own admin (forums/admin.py) shows forums, threads and posts, and the
# accounts' admin shows members; moderation adds what it owns: host changes and
# suspensions logged, locking, pinning, hiding and blocks, all through
# moderation.services so that each lands in the public log. Forums and accounts stay
# below moderation (they import nothing from it), so the admin classes are replaced
# here, which Django's admin allows for another app's models.


class ModeratedUserAdmin(accounts_admin.UserAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"is_suspended", "suspended_until", "suspension_reason"} & set(form.changed_data):
            log_suspension(staff=request.user, member=obj, suspended=obj.is_suspended)


class ModeratedForumAdmin(forums_admin.ForumAdmin):
    def save_related(self, request, form, formsets, change):
        before = set(form.instance.hosts.all()) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.hosts.all())
        log_host_changes(staff=request.user, forum=form.instance, added=after - before, removed=before - after)


class ModeratedThreadAdmin(forums_admin.ThreadAdmin):
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


class ModeratedPostAdmin(forums_admin.PostAdmin):
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


for model, model_admin in (
    (User, ModeratedUserAdmin), (Forum, ModeratedForumAdmin), (Thread, ModeratedThreadAdmin), (Post, ModeratedPostAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)


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
