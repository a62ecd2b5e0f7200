from django.contrib import admin, messages

from .models import Alert, AlertRule, Appeal, Jury, JurySeat, ModerationAction
from .services import appeal_decide


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["rule", "post", "alerter", "status", "created_at"]
    list_filter = ["status", "rule"]
    list_select_related = ["rule", "post", "alerter"]
    search_fields = ["post__subject", "alerter__username", "comment"]
    readonly_fields = ["post", "rule", "alerter", "comment", "status", "created_at"]

    def has_add_permission(self, request):
        return False


class JurySeatInline(admin.TabularInline):
    model = JurySeat
    fields = ["juror", "answer", "comment", "seated_at", "deadline_at", "answered_at", "is_replaced"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
