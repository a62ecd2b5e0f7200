"""Every write to private messages. Views, moderation, the admin and tests come here.

Locks are taken in one order everywhere, so that two members writing to each other
at once queue instead of deadlocking: the members' rows (by id), then the
conversation, then the participants. A member's locked row also guards their
`unread_count`s and their header count, which change together.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.standing import is_new_member
from forums.rendering import render_post, without_pictures
from forums.services import (
    SUBJECT_TOO_LONG,
    TITLE_MAX,
    check_placed_pictures,
    normalised_body,
    normalised_line,
    pictures_place,
)

from .models import Conversation, Message, Participant
from .permissions import check_can_message, check_can_reply, check_new_member_limits

# Titles, reply subjects and message subjects share one length, so a subject over it
# gets the same refusal whether it heads a reply or a message.
SUBJECT_MAX = TITLE_MAX

SUBJECT_REQUIRED = gettext_noop("Give your message a subject.")
BODY_REQUIRED = gettext_noop("Write something before sending.")
BODY_TOO_LONG = gettext_noop("Keep messages to 50,000 characters (this one has {length}).")
TOO_MANY_LINKS = gettext_noop("New members can include at most {limit} links in a message.")
NOT_A_PARTICIPANT = gettext_noop("You do not take part in this conversation.")


def validate_subject(subject: str) -> str:
    return normalised_line(subject, field="subject", required=SUBJECT_REQUIRED, too_long=SUBJECT_TOO_LONG)


def validate_body(body: str) -> str:
    return normalised_body(body, required=BODY_REQUIRED, too_long=BODY_TOO_LONG)


def _render(author, body: str) -> str:
    body_html = render_post(body)
    check_placed_pictures(body_html)
    # Links are what spammers send; new members get the same limit as in posts.
    limit = settings.FORUMS_NEW_MEMBER_MAX_LINKS
    if author is not None and is_new_member(author) and body_html.count("<a ") > limit:
        raise ValidationError({"body": _(TOO_MANY_LINKS).format(limit=limit)})
    return body_html


def _lock_members(member_ids) -> None:
    """Lock the members' rows in id order (see the module docstring)."""
    list(
        get_user_model().objects.select_for_update()
        .filter(pk__in=set(member_ids)).order_by("pk").values_list("pk", flat=True)
    )


def _add_message(conversation: Conversation, *, author, body: str, body_html: str, now,
                 member_ids) -> Message:
    """Append a message and count it as unread for everyone but its author. Call inside
    a transaction holding the members' rows and, for an existing conversation, its row."""
    number = conversation.message_count + 1
    message = Message.objects.create(
        conversation=conversation, author=author, number=number, body=body,
        body_html=body_html, created_at=now,
    )
    placed = pictures_place(owner=author, body_html=body_html) if author is not None else []
    if placed:
        message.pictures.add(*placed)
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, last_message_at=now
    )
    conversation.message_count, conversation.last_message_at = number, now
    seats = Participant.objects.filter(conversation=conversation)
    readers = [member_id for member_id in member_ids if author is None or member_id != author.pk]
    seats.filter(member_id__in=readers).update(
        unread_count=F("unread_count") + 1, last_message_at=now
    )
    get_user_model().objects.filter(pk__in=readers).update(
        unread_message_count=F("unread_message_count") + 1
    )
    if author is not None:
        # Writing in a conversation means having read it.
        _mark_read(seats.get(member=author), now=now, last_message_at=now, last_sent_at=now)
    return message


def _mark_read(seat: Participant, *, now, **changes) -> int:
    """Reset a participant's unread messages (and apply `changes` to the row) and take
    them off the header count. Call with the member's row locked."""
    unread = seat.unread_count
    Participant.objects.filter(pk=seat.pk).update(unread_count=0, last_read_at=now, **changes)
    if unread:
        get_user_model().objects.filter(pk=seat.member_id).update(
            unread_message_count=F("unread_message_count") - unread
        )
    return unread


@transaction.atomic
def conversation_create(*, sender, recipient, subject: str, body: str,
                        created_at: datetime | None = None) -> Conversation:
    """Start a conversation between two members with its first message. Active members,
    not to themselves nor to a member who ignores them; new members are rate limited."""
    check_can_message(sender, recipient)
    subject, body = validate_subject(subject), validate_body(body)
    body_html = _render(sender, body)
    now = created_at or timezone.now()
    member_ids = [sender.pk, recipient.pk]
    _lock_members(member_ids)
    check_new_member_limits(sender, now=now, starts_conversation=True)
    conversation = Conversation.objects.create(
        subject=subject, started_by=sender, created_at=now, last_message_at=now
    )
    Participant.objects.bulk_create(
        Participant(conversation=conversation, member_id=member_id, joined_at=now,
                    last_message_at=now)
        for member_id in member_ids
    )
    _add_message(conversation, author=sender, body=body, body_html=body_html, now=now,
                 member_ids=member_ids)
    return conversation


@transaction.atomic
def message_create(*, author, conversation: Conversation, body: str,
                   created_at: datetime | None = None) -> Message:
    """Answer in a conversation. Its participants only, and not when one of the others
    ignores the author. Numbers messages under the conversation's lock."""
    seats = list(Participant.objects.filter(conversation=conversation).select_related("member"))
    if author.pk not in {seat.member_id for seat in seats}:
        raise PermissionDenied(_(NOT_A_PARTICIPANT))
    others = [seat.member for seat in seats if seat.member_id != author.pk]
    check_can_reply(author, conversation, others)
    body = validate_body(body)
    body_html = _render(author, body)
    now = created_at or timezone.now()
    member_ids = [seat.member_id for seat in seats]
    _lock_members(member_ids)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    check_new_member_limits(author, now=now, starts_conversation=False)
    return _add_message(conversation, author=author, body=body, body_html=body_html, now=now,
                        member_ids=member_ids)


@transaction.atomic
def message_from_community(*, recipients, subject: str, body: str) -> list[Conversation]:
    """Deliver a message from the community itself (no author) to each recipient, in a
    conversation of their own: recipients do not learn about each other (a poster
    does not learn who alerted their post). Moderation calls this; nobody answers."""
    subject, body = validate_subject(subject[:SUBJECT_MAX]), validate_body(body)
    body_html = render_post(body)
    # Members or their ids; an empty place (an account gone) is skipped.
    member_ids = sorted({getattr(member, "pk", member) for member in recipients if member})
    now = timezone.now()
    _lock_members(member_ids)
    conversations = []
    for member_id in member_ids:
        conversation = Conversation.objects.create(
            subject=subject, started_by=None, created_at=now, last_message_at=now
        )
        Participant.objects.create(
            conversation=conversation, member_id=member_id, joined_at=now, last_message_at=now
        )
        _add_message(conversation, author=None, body=body, body_html=body_html, now=now,
                     member_ids=[member_id])
        conversations.append(conversation)
    return conversations


@transaction.atomic
def conversation_mark_read(*, member, conversation: Conversation) -> int:
    """Everything in the conversation counts as read by the member (a participant);
    their header count drops by as much. Returns how many messages were unread."""
    _lock_members([member.pk])
    seat = Participant.objects.get(conversation=conversation, member=member)
    unread = _mark_read(seat, now=timezone.now())
    if unread:
        member.refresh_from_db(fields=["unread_message_count"])
    return unread


JURY_RESULT_SUBJECT = gettext_noop("Jury result: {subject}")
JURY_RESULT_BODY = gettext_noop(
    "A jury of members has decided on a post alerted for breaking the rule "
    "“{rule}”.\n\n"
    "**{verdict}.** {breaks} of {seats} jurors said it breaks the rule, "
    "{keeps} said it does not.\n\n"
    "[See the result and the jurors' comments]({url})"
)


def jury_result_deliver(*, jury) -> list[Conversation]:
    """Tell the poster and the alerter a jury's verdict, as a message from the community:
    the rule, the verdict and the counts, never the jurors' names. Moderation calls this
    when a jury closes, inside its transaction."""
    subject = _(JURY_RESULT_SUBJECT).format(subject=jury.post.subject)
    body = _(JURY_RESULT_BODY).format(
        rule=jury.alert.rule.name,
        verdict=jury.get_verdict_display(),
        breaks=jury.breaks_votes,
        seats=jury.breaks_votes + jury.keeps_votes,
        keeps=jury.keeps_votes,
        url=reverse("moderation:jury-result", args=[jury.pk]),
    )
    return message_from_community(
        recipients=[jury.post.author_id, jury.alert.alerter_id], subject=subject, body=body
    )


def messages_pictures_drop(*, pictures) -> None:
    """Messages that show any of `pictures` (a queryset, about to be deleted) show their
    alt text instead. For community.services.member_delete, inside its transaction."""
    ids = list(pictures.values_list("pk", flat=True))
    for message in Message.objects.filter(pictures__in=ids).distinct().only("pk", "body_html"):
        Message.objects.filter(pk=message.pk).update(body_html=without_pictures(message.body_html, ids))
