"""Who may write to whom. Each rule comes as `can_*` for templates and `check_*` that raises."""

import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.standing import (
    PostingPaused,
    can_write,
    check_active_member,
    check_pause,
    is_new_member,
    new_member_limits_end,
)
from config.ratelimit import minutes_phrase
from forums.models import IgnoredMember
from forums.permissions import can_see_picture as can_see_forum_picture

from .models import Conversation, Message, Participant

MESSAGE_SELF = gettext_noop("You cannot send a message to yourself.")
IGNORED_BY_RECIPIENT = gettext_noop("{name} does not accept messages from you.")
RECIPIENT_GONE = gettext_noop("{name} can no longer receive messages.")
FROM_COMMUNITY = gettext_noop("Messages from the community cannot be answered.")
NO_ONE_TO_ANSWER = gettext_noop("There is no one left in this conversation to answer.")
TOO_MANY_CONVERSATIONS = gettext_noop(
    "New members can start at most {limit} conversations an hour. "
    "Please wait {wait}. {ends}"
)
TOO_SOON = gettext_noop(
    "New members can send a message once every {seconds} seconds. "
    "Please wait {wait}. {ends}"
)


def can_send(member) -> bool:
    return can_write(member)


def check_can_send(member) -> None:
    """Logged in, active and not suspended: may send messages at all."""
    check_active_member(member)


def members_ignoring(sender, recipients) -> list:
    """Which of `recipients` ignore `sender` (one query)."""
    ids = IgnoredMember.objects.filter(
        member__in=[recipient.pk for recipient in recipients], ignored=sender
    ).values_list("member_id", flat=True)
    ignoring = set(ids)
    return [recipient for recipient in recipients if recipient.pk in ignoring]


def can_message(sender, recipient) -> bool:
    return (
        can_send(sender)
        and sender.pk != recipient.pk
        and recipient.is_active
        and not members_ignoring(sender, [recipient])
    )


def check_can_message(sender, recipient) -> None:
    """May start a conversation with `recipient`: not oneself, and not someone who
    ignores the sender (ignoring a member means not hearing from them at all)."""
    check_can_send(sender)
    if sender.pk == recipient.pk:
        raise PermissionDenied(_(MESSAGE_SELF))
    _check_recipients(sender, [recipient])


def _check_recipients(sender, recipients) -> None:
    for recipient in recipients:
        if not recipient.is_active:
            raise PermissionDenied(_(RECIPIENT_GONE).format(name=recipient.public_name))
    for recipient in members_ignoring(sender, recipients):
        raise PermissionDenied(_(IGNORED_BY_RECIPIENT).format(name=recipient.public_name))


def reply_refusal(member, conversation, others) -> str:
    """Why `member` cannot answer in the conversation (empty when they can), for the
    conversation page: `others` are the other participants' members."""
    try:
        check_can_reply(member, conversation, others)
    except PermissionDenied as refusal:
        return str(refusal)
    return ""


def can_reply(member, conversation, others) -> bool:
    return not reply_refusal(member, conversation, others)


def check_can_reply(member, conversation, others) -> None:
    """Participants answer in a conversation between members, unless one of the others
    has since started ignoring them. The caller has checked that `member` takes part."""
    check_can_send(member)
    if conversation.is_from_community:
        raise PermissionDenied(_(FROM_COMMUNITY))
    if not others:
        raise PermissionDenied(_(NO_ONE_TO_ANSWER))
    _check_recipients(member, others)


def check_new_member_limits(sender, *, now, starts_conversation: bool) -> None:
    """Flood control for new members: a pause between messages, and a number of new
    conversations an hour. Call inside the sending transaction with the sender's row
    locked, so that two messages sent at once cannot both pass."""
    if not is_new_member(sender):
        return
    pause = timedelta(seconds=settings.FORUMS_NEW_MEMBER_SECONDS_BETWEEN_MESSAGES)
    last = (
        Message.objects.filter(author=sender)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    check_pause(last, now=now, pause=pause, message=TOO_SOON)
    if not starts_conversation:
        return
    limit, hour = settings.FORUMS_NEW_MEMBER_CONVERSATIONS_PER_HOUR, timedelta(hours=1)
    started = list(
        Conversation.objects.filter(started_by=sender, created_at__gt=now - hour)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(started) >= limit:
        # The oldest of the last `limit` conversations must leave the hour first.
        seconds = (started[-1] + hour - now).total_seconds()
        wait = math.ceil(seconds / 60)
        raise PostingPaused(
            _(TOO_MANY_CONVERSATIONS).format(
                limit=limit, wait=minutes_phrase(wait), ends=new_member_limits_end()
            ),
            retry_after=math.ceil(seconds),
        )


def can_see_picture(user, picture) -> bool:
    """Who may see a picture: the forums' rule (posts and pending pictures), and for one
    placed in a private message, the participants of its conversation. Staff too see
    a message's picture only when they take part: messages are private."""
    if can_see_forum_picture(user, picture):
        return True
    return bool(
        user.is_authenticated and picture.post_id is None and not picture.is_pending
        and Participant.objects.filter(member=user, conversation__messages__pictures=picture).exists()
    )
