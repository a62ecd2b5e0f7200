from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin import ReadOnlyInline

from .models import CodeBatch, RedeemCode, Sponsor, User
from .services import code_batch_create, star_grant


class TierFilter(admin.SimpleListFilter):
    title = _("tier")
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return [("star", _("Star Member")), ("member", _("Member"))]

    def queryset(self, request, queryset):
        star = Q(star_until__gt=timezone.now())
        if self.value() == "star":
            return queryset.filter(star)
        if self.value() == "member":
            return queryset.exclude(star)
        return queryset


def _grant_action(months):
    def action(modeladmin, request, queryset):
        for member in queryset:
            star_grant(member=member, months=months)
        modeladmin.message_user(
            request,
            ngettext("Granted %(months)d months of Star to %(count)d member.",
                     "Granted %(months)d months of Star to %(count)d members.", queryset.count())
            % {"months": months, "count": queryset.count()},
            messages.SUCCESS,
        )

    action.__name__ = f"grant_star_{months}"
    action.short_description = _("Grant or extend Star membership by %(months)d months") % {"months": months}
    return action


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "display_name", "post_count", "star_until",
                    "is_suspended", "date_joined", "is_staff"]
    list_filter = [TierFilter, "is_suspended", "is_staff", "is_active"]
    # The restriction follows hidden posts (moderation keeps it); staff see it here.
    readonly_fields = ["post_count", "restricted_until"]
    actions = [_grant_action(1), _grant_action(12)]

    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Profile"), {"fields": ["display_name", "hometown", "country", "slogan", "avatar", "post_count"]}),
        (_("Star membership"), {"fields": ["star_until"]}),
        (_("Suspension"), {
            "fields": ["is_suspended", "suspended_until", "suspension_reason", "restricted_until"],
            "description": _("A suspended member can read but not post. No end date: a ban."),
        }),
    )


class RedeemCodeInline(ReadOnlyInline):
    model = RedeemCode
    fields = ["code", "redeemed_by", "redeemed_at"]


@admin.register(CodeBatch)
class CodeBatchAdmin(admin.ModelAdmin):
    list_display = ["label", "quantity", "months", "expires_at", "created_at", "created_by"]
    inlines = [RedeemCodeInline]
    fields = ["label", "quantity", "months", "expires_at"]

    def get_readonly_fields(self, request, obj=None):
        # A batch's codes are made once, when it is created.
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        batch = code_batch_create(
            label=obj.label, quantity=obj.quantity, months=obj.months,
            expires_at=obj.expires_at, created_by=request.user,
        )
        obj.pk = batch.pk
        obj.created_at = batch.created_at

    def get_inlines(self, request, obj):
        # The codes exist only once code_batch_create has made them.
        return self.inlines if obj else []


@admin.register(RedeemCode)
class RedeemCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "batch", "redeemed_by", "redeemed_at"]
    list_filter = [("redeemed_by", admin.EmptyFieldListFilter), "batch"]
    list_select_related = ["batch", "redeemed_by"]
    search_fields = ["code", "redeemed_by__username"]
    readonly_fields = ["code", "batch", "redeemed_by", "redeemed_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Sponsor)
class SponsorAdmin(admin.ModelAdmin):
    list_display = ["text", "link", "starts_at", "ends_at", "is_active"]
    list_filter = ["is_active"]
