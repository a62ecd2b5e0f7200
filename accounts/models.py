import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Tier(models.IntegerChoices):
    """Ordered: compare with >=. Tiers grant perks, never moderation powers."""

    MEMBER = 1, _("Member")
    STAR = 2, _("Star Member")


class User(AbstractUser):
    """A member of the community. allauth signs them up and in.

    Profile and preferences live on this row rather than a separate Profile model:
    every page loads the member anyway, so they come without another query.
    """

    class ThreadView(models.TextChoices):
        ORIGINAL_POST = "op", _("Original post only")
        ALL = "all", _("View all")

    class Layout(models.TextChoices):
        THREADED = "threaded", _("Threaded")
        FLAT = "flat", _("Flat")

    class Highlight(models.TextChoices):
        NONE = "none", _("None")
        NEWEST = "newest", _("5 newest")

    class Theme(models.TextChoices):
        SYSTEM = "system", _("System setting")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    hometown = models.CharField(_("hometown"), max_length=80, blank=True)
    country = models.CharField(_("country"), max_length=80, blank=True)
    slogan = models.CharField(_("slogan"), max_length=200, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    # Kept exact by forums.services in the same transaction as each post, so a
    # thread page can print "(36,401 posts)" without counting rows.
    post_count = models.PositiveIntegerField(_("posts"), default=0)
    # Flood control for new members reads this instead of their newest post.
    last_posted_at = models.DateTimeField(_("last posted at"), null=True, blank=True)
    # "Mark all forums read": everything older counts as read in every forum.
    all_read_at = models.DateTimeField(_("marked all forums read at"), null=True, blank=True)
    # The header's unread count, kept by forums.services with each notification.
    unread_notification_count = models.PositiveIntegerField(default=0)
    # The header's unread private messages, kept exact by conversations.services.
    unread_message_count = models.PositiveIntegerField(default=0)
    email_notifications = models.BooleanField(
        _("Email me my notifications"), default=True
    )
    notify_recommendations = models.BooleanField(
        _("Tell me when a member recommends my post"), default=True
    )
    # Set when the member deletes their account (community.services.member_delete): the
    # row stays, scrubbed, so their posts keep an author and every counter stays exact.
    deleted_at = models.DateTimeField(_("account deleted at"), null=True, blank=True)

    # Star membership: a Star Member until star_until; afterwards simply a Member
    # again, because the tier is worked out from the date, not stored.
    star_until = models.DateTimeField(_("Star Member until"), null=True, blank=True)

    # Suspension: while suspended a member can read but not write.
    suspended_until = models.DateTimeField(
        _("suspended until"), null=True, blank=True,
        help_text=_("Leave empty with a reason for a suspension without end (a ban)."),
    )
    is_suspended = models.BooleanField(_("suspended"), default=False)
    suspension_reason = models.CharField(_("reason for suspension"), max_length=300, blank=True)
    # Too many posts hidden recently: no posting, hosting or jury service until then.
    # Kept by moderation.services whenever one of the member's posts is hidden or shown
    # again, so that checking a member's standing (accounts.standing) needs no query.
    restricted_until = models.DateTimeField(_("restricted until"), null=True, blank=True, editable=False)

    thread_view = models.CharField(
        _("thread view"), max_length=10, choices=ThreadView, default=ThreadView.ORIGINAL_POST
    )
    layout = models.CharField(_("layout"), max_length=10, choices=Layout, default=Layout.THREADED)
    highlight = models.CharField(
        _("highlight"), max_length=10, choices=Highlight, default=Highlight.NONE
    )
    replies_per_page = models.PositiveSmallIntegerField(
        _("replies per page"), choices=[(n, str(n)) for n in (25, 50, 100, 200)], default=50
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC"
    )
    theme = models.CharField(_("theme"), max_length=10, choices=Theme, default=Theme.SYSTEM)
    jury_available = models.BooleanField(_("Available to serve on juries"), default=True)
    jury_blacklist = models.ManyToManyField(
        "self", verbose_name=_("jury blacklist"), symmetrical=False, blank=True,
        related_name="+", help_text=_("Members whose posts I will not judge on a jury."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.username

    @property
    def public_name(self) -> str:
        if self.deleted_at:
            return gettext("deleted member")
        return self.display_name or self.username

    @property
    def is_deleted_member(self) -> bool:
        return self.deleted_at is not None

    def get_absolute_url(self):
        return reverse("members:member-detail", args=[self.username])

    @property
    def avatar_url(self) -> str:
        return self.avatar.url if self.avatar else static("img/avatar.svg")

    @property
    def tier(self) -> Tier:
        if self.star_until and self.star_until > timezone.now():
            return Tier.STAR
        return Tier.MEMBER

    @property
    def is_star(self) -> bool:
        return self.tier >= Tier.STAR

    @property
    def suspension_active(self) -> bool:
        if not self.is_suspended:
            return False
        return self.suspended_until is None or self.suspended_until > timezone.now()


def _new_code() -> str:
    # 16 characters from an alphabet without look-alikes (0/O, 1/I/L).
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


class CodeBatch(models.Model):
    """A batch of single-use Star codes that staff generate in the admin."""

    label = models.CharField(_("label"), max_length=100)
    quantity = models.PositiveIntegerField(_("number of codes"))
    months = models.PositiveSmallIntegerField(_("months of Star membership per code"))
    expires_at = models.DateTimeField(
        _("codes expire at"), null=True, blank=True, help_text=_("Empty: the codes never expire.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )

    class Meta:
        verbose_name = _("batch of Star codes")
        verbose_name_plural = _("batches of Star codes")
        ordering = ["-created_at"]

    def __str__(self):
        return self.label


class RedeemCode(models.Model):
    batch = models.ForeignKey(
        CodeBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="codes"
    )
    code = models.CharField(_("code"), max_length=32, unique=True, default=_new_code)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("redeemed by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="redeemed_codes",
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Star code")
        verbose_name_plural = _("Star codes")

    def __str__(self):
        return self.code


class SponsorQuerySet(models.QuerySet):
    def current(self):
        now = timezone.now()
        return self.filter(is_active=True, starts_at__lte=now).filter(
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=now)
        )


class Sponsor(models.Model):
    """A sponsor message: visitors and free members see one; Star Members never do."""

    text = models.CharField(_("text"), max_length=200)
    link = models.URLField(_("link"))
    starts_at = models.DateTimeField(_("shown from"), default=timezone.now)
    ends_at = models.DateTimeField(_("shown until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = SponsorQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return self.text
