from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .querysets import MessageQuerySet, ParticipantQuerySet


class Conversation(models.Model):
    """Private messages between members; started by nobody when the community writes."""

    subject = models.CharField(_("subject"), max_length=150)
    # Empty for messages from the community itself (jury results), which take no answer.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )
    created_at = models.DateTimeField(_("created at"))
    last_message_at = models.DateTimeField(_("last message at"), db_index=True)
    # Kept exact by conversations.services under the conversation's lock. Messages are
    # never removed, so it is also the number of the newest message, and pages of the
    # conversation need neither COUNT nor OFFSET.
    message_count = models.PositiveIntegerField(_("messages"), default=0)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("conversations:conversation-detail", args=[self.pk])

    @property
    def is_from_community(self) -> bool:
        return self.started_by_id is None


class Participant(models.Model):
    """A member's place in a conversation: what they have read and when they last wrote.

    `last_message_at` repeats the conversation's so that the inbox is one indexed scan
    of the member's own rows; `last_sent_at` is set once they write, which is what puts
    the conversation on their "Sent" page.
    """

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
        related_name="participants",
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.CASCADE,
        related_name="conversation_seats",
    )
    joined_at = models.DateTimeField(_("joined at"))
    last_message_at = models.DateTimeField(_("last message at"))
    last_read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    # Messages from others since the member last read the conversation. The sum over
    # a member's rows is User.unread_message_count; the services change both together.
    unread_count = models.PositiveIntegerField(_("unread messages"), default=0)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "member"], name="participant_once"),
        ]
        indexes = [
            models.Index(
                "member", models.F("last_message_at").desc(), name="participant_inbox"
            ),
            models.Index(
                "member", models.F("last_sent_at").desc(), name="participant_sent"
            ),
        ]

    def __str__(self):
        return f"{self.member} in {self.conversation}"


class Message(models.Model):
    """One message, numbered 1..N in its conversation. No author: from the community."""

    conversation = models.ForeignKey(
        Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="+", null=True, blank=True,
    )
    number = models.PositiveIntegerField(_("number"))
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body (rendered HTML)"))
    created_at = models.DateTimeField(_("created at"))
    # The pictures it placed: only the conversation's participants see them.
    pictures = models.ManyToManyField(
        "forums.Picture", verbose_name=_("pictures"), related_name="messages", blank=True
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "number"], name="message_unique_number"
            ),
        ]
        indexes = [
            # Flood control for new members looks up their newest message.
            models.Index("author", models.F("created_at").desc(), name="message_author_newest"),
        ]

    def __str__(self):
        return f"{self.conversation} #{self.number}"

    @property
    def is_from_community(self) -> bool:
        return self.author_id is None
