"""Community moderation: alerts, member juries, appeals and the public log."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class AlertRule(models.Model):
    """A rule members can say a post breaks ("No personal attacks", ...). From the seeds."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("rule"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Alert(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for a jury")
        JUDGED = "judged", _("Judged")
        DROPPED = "dropped", _("Dropped: the post is gone")

    post = models.ForeignKey("forums.Post", on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    alerter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts_sent"
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.WAITING)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "rule"], name="one_alert_per_rule_per_post")
        ]

    def __str__(self):
        return f"{self.rule} – {self.post}"


class Jury(models.Model):
    class Verdict(models.TextChoices):
        HIDE = "hide", _("The post breaks the rule and is hidden")
        KEEP = "keep", _("The post does not break the rule and stays")

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, related_name="jury")
    post = models.ForeignKey("forums.Post", on_delete=models.CASCADE, related_name="juries")
    created_at = models.DateTimeField()
    is_open = models.BooleanField(default=True)
    verdict = models.CharField(max_length=10, choices=Verdict, blank=True)
    breaks_votes = models.PositiveSmallIntegerField(default=0)
    keeps_votes = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("juries")
        constraints = [
            # At most one jury sits on a post at a time.
            models.UniqueConstraint(
                fields=["post"], condition=models.Q(is_open=True), name="one_open_jury_per_post"
            )
        ]

    def __str__(self):
        return f"Jury #{self.pk} on {self.post}"

    def get_absolute_url(self):
        return reverse("moderation:jury-result", args=[self.pk])


class JurySeat(models.Model):
    class Answer(models.TextChoices):
        CLEAR_BREAK = "clear_break", _("Clearly breaks the rule")
        CLOSE_BREAK = "close_break", _("Close call: breaks it")
        CLOSE_KEEP = "close_keep", _("Close call: does not break it")
        CLEAR_KEEP = "clear_keep", _("Clearly does not break it")

    BREAKS = {Answer.CLEAR_BREAK, Answer.CLOSE_BREAK}

    jury = models.ForeignKey(Jury, on_delete=models.CASCADE, related_name="seats")
    juror = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jury_seats"
    )
    seated_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    answer = models.CharField(max_length=15, choices=Answer, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # A juror who let the deadline pass is replaced; the seat stays for the record.
    is_replaced = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jury", "juror"], name="one_seat_per_juror")
        ]

    def __str__(self):
        return f"{self.juror} on {self.jury}"


class Appeal(models.Model):
    """The poster asks staff to look again at a jury's decision to hide their post."""

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Upheld: the post stays hidden")
        OVERTURNED = "overturned", _("Overturned: the post is shown again")

    jury = models.OneToOneField(Jury, on_delete=models.CASCADE, related_name="appeal")
    text = models.TextField(_("why the verdict is wrong"), max_length=2000)
    created_at = models.DateTimeField()
    decision = models.CharField(max_length=12, choices=Decision, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Appeal of {self.jury}"


class ModerationAction(models.Model):
    """One entry of the public moderation log."""

    class Kind(models.TextChoices):
        VERDICT_HIDE = "verdict_hide", _("Jury hid a post")
        VERDICT_KEEP = "verdict_keep", _("Jury kept a post")
        HIDE = "hide", _("Hid a post")
        UNHIDE = "unhide", _("Showed a hidden post again")
        LOCK = "lock", _("Locked a thread")
        UNLOCK = "unlock", _("Unlocked a thread")
        PIN = "pin", _("Pinned a thread")
        UNPIN = "unpin", _("Unpinned a thread")
        MOVE = "move", _("Moved a thread")
        BLOCK = "block", _("Blocked a member from a forum")
        UNBLOCK = "unblock", _("Unblocked a member")
        ADD_HOST = "add_host", _("Added a host")
        REMOVE_HOST = "remove_host", _("Removed a host")
        SUSPEND = "suspend", _("Suspended a member")
        REINSTATE = "reinstate", _("Lifted a suspension")
        APPEAL_UPHELD = "appeal_upheld", _("Upheld a jury verdict on appeal")
        APPEAL_OVERTURNED = "appeal_overturned", _("Overturned a jury verdict on appeal")
        POLL_CLOSE = "poll_close", _("Closed a poll")

    class Role(models.TextChoices):
        JURY = "jury", _("Jury")
        HOST = "host", _("Host")
        STAFF = "staff", _("Staff")

    kind = models.CharField(max_length=20, choices=Kind)
    role = models.CharField(max_length=10, choices=Role)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    forum = models.ForeignKey("forums.Forum", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    thread = models.ForeignKey("forums.Thread", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    post = models.ForeignKey("forums.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text=_("The member the action concerns."),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_role_display()})"
