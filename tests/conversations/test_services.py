"""Private messages through the services: who may write to whom, and exact counts."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import User
from accounts.services import member_suspend
from conversations.models import Conversation, Message, Participant
from conversations.permissions import (
    FROM_COMMUNITY,
    IGNORED_BY_RECIPIENT,
    MESSAGE_SELF,
    can_message,
    can_reply,
    check_can_message,
)
from conversations.services import (
    BODY_REQUIRED,
    SUBJECT_REQUIRED,
    TOO_MANY_LINKS,
    conversation_create,
    conversation_mark_read,
    message_create,
    message_from_community,
)
from accounts.standing import PostingPaused
from forums.services import member_ignore_set
from tests.factories import MemberFactory


def _unread(member) -> int:
    return User.objects.get(pk=member.pk).unread_message_count


def test_conversation_create_delivers_the_first_message(member, other_member):
    conversation = conversation_create(
        sender=member, recipient=other_member, subject="  Meetup  on Saturday ", body="Are you **in**?"
    )
    assert conversation.subject == "Meetup on Saturday"
    message = conversation.messages.get()
    assert (message.author, message.number) == (member, 1)
    assert "<strong>in</strong>" in message.body_html
    assert set(conversation.participants.values_list("member_id", flat=True)) == {member.pk, other_member.pk}
    assert (_unread(member), _unread(other_member)) == (0, 1)


def test_replies_count_for_the_others_and_reading_resets(member, other_member, conversation):
    message_create(author=other_member, conversation=conversation, body="And one more thing.")
    assert _unread(member) == 2

    assert conversation_mark_read(member=member, conversation=conversation) == 2
    assert _unread(member) == 0
    assert conversation_mark_read(member=member, conversation=conversation) == 0

    reply = message_create(author=member, conversation=conversation, body="Sounds good.")
    assert reply.number == 3
    assert (_unread(member), _unread(other_member)) == (0, 1)
    conversation.refresh_from_db()
    assert conversation.message_count == 3


def test_answering_counts_as_reading(member, other_member, conversation):
    message_create(author=member, conversation=conversation, body="Answer without opening it.")
    assert _unread(member) == 0
    seat = Participant.objects.get(conversation=conversation, member=member)
    assert seat.unread_count == 0 and seat.last_read_at and seat.last_sent_at


def test_unread_count_is_the_sum_over_conversations(member, db, start_conversation):
    writers = MemberFactory.create_batch(3)
    conversations = [start_conversation(writer, member) for writer in writers]
    message_create(author=writers[0], conversation=conversations[0], body="Hello again")
    assert _unread(member) == 4
    conversation_mark_read(member=member, conversation=conversations[0])
    assert _unread(member) == 2
    assert _unread(member) == sum(Participant.objects.filter(member=member).values_list("unread_count", flat=True))


# Who may write to whom.


def test_cannot_message_yourself(member):
    with pytest.raises(PermissionDenied, match=MESSAGE_SELF):
        conversation_create(sender=member, recipient=member, subject="Me", body="Myself")
    assert not Conversation.objects.exists()


def test_member_ignored_by_the_recipient_cannot_write_to_them(member, other_member):
    member_ignore_set(member=other_member, other=member, ignore=True)
    assert not can_message(member, other_member)
    with pytest.raises(PermissionDenied) as refusal:
        conversation_create(sender=member, recipient=other_member, subject="Hi", body="Listen")
    assert str(refusal.value) == IGNORED_BY_RECIPIENT.format(name=other_member.public_name)
    assert not Conversation.objects.exists() and not Message.objects.exists()
    # Ignoring is one way: the one who ignores may still write.
    check_can_message(other_member, member)


def test_ignoring_later_stops_answers_too(member, other_member, conversation):
    member_ignore_set(member=other_member, other=member, ignore=True)
    assert not can_reply(member, conversation, [other_member])
    with pytest.raises(PermissionDenied, match="does not accept messages from you"):
        message_create(author=member, conversation=conversation, body="But wait")
    assert conversation.messages.count() == 1


def test_suspended_member_cannot_send(member, other_member, conversation):
    member = member_suspend(member=member, reason="Flooding", until=timezone.now() + timedelta(days=1))
    with pytest.raises(PermissionDenied, match="Flooding"):
        conversation_create(sender=member, recipient=other_member, subject="Hi", body="Hi")
    with pytest.raises(PermissionDenied, match="suspended until"):
        message_create(author=member, conversation=conversation, body="Hi")
    assert Message.objects.count() == 1


def test_only_participants_answer(outsider, conversation):
    with pytest.raises(PermissionDenied):
        message_create(author=outsider, conversation=conversation, body="Hello there")
    assert conversation.messages.count() == 1


def test_subject_and_body_are_required(member, other_member):
    with pytest.raises(ValidationError) as missing:
        conversation_create(sender=member, recipient=other_member, subject=" ", body="x")
    assert missing.value.message_dict == {"subject": [SUBJECT_REQUIRED]}
    with pytest.raises(ValidationError) as missing:
        conversation_create(sender=member, recipient=other_member, subject="Hi", body=" \n ")
    assert missing.value.message_dict == {"body": [BODY_REQUIRED]}


# New members.


@pytest.fixture
def newcomer(db, settings):
    settings.FORUMS_NEW_MEMBER_POSTS = 10
    return MemberFactory(joined_at=timezone.now() - timedelta(hours=2))


def test_new_member_waits_between_messages(newcomer, other_member):
    conversation = conversation_create(sender=newcomer, recipient=other_member, subject="Hi", body="One")
    with pytest.raises(PostingPaused, match="once every 30 seconds"):
        message_create(author=newcomer, conversation=conversation, body="Two")
    later = timezone.now() + timedelta(seconds=31)
    message_create(author=newcomer, conversation=conversation, body="Two", created_at=later)
    assert conversation.messages.count() == 2


def test_new_member_starts_three_conversations_an_hour(newcomer, db):
    now = timezone.now()
    recipients = MemberFactory.create_batch(4)
    for minutes, recipient in zip([50, 40, 30], recipients):
        conversation_create(sender=newcomer, recipient=recipient, subject="Hi", body="Hello",
                            created_at=now - timedelta(minutes=minutes))
    with pytest.raises(PostingPaused, match="at most 3 conversations an hour") as refusal:
        conversation_create(sender=newcomer, recipient=recipients[3], subject="Hi", body="Hello")
    assert "Please wait 10 minutes." in str(refusal.value)
    assert Conversation.objects.count() == 3
    conversation_create(sender=newcomer, recipient=recipients[3], subject="Hi", body="Hello",
                        created_at=now + timedelta(minutes=11))


def test_new_member_link_limit(newcomer, other_member):
    body = "https://a.org/1 https://b.org/2 [three](https://c.org/3)"
    with pytest.raises(ValidationError) as refusal:
        conversation_create(sender=newcomer, recipient=other_member, subject="Links", body=body)
    assert refusal.value.message_dict == {"body": [TOO_MANY_LINKS.format(limit=2)]}


def test_established_member_has_no_flood_limit(member, other_member, conversation):
    for n in range(3):
        message_create(author=member, conversation=conversation, body=f"Message {n}")
    for n in range(4):
        conversation_create(sender=member, recipient=MemberFactory(), subject=f"S{n}", body="b")


# Messages from the community.


def test_message_from_community_gives_each_recipient_their_own_conversation(member, other_member):
    conversations = message_from_community(
        recipients=[member, other_member.pk, None], subject="Jury result", body="The *verdict*."
    )
    assert len(conversations) == 2
    for conversation in conversations:
        assert conversation.is_from_community and conversation.participants.count() == 1
        message = conversation.messages.get()
        assert message.author is None and "<em>verdict</em>" in message.body_html
    assert (_unread(member), _unread(other_member)) == (1, 1)
    with pytest.raises(PermissionDenied, match=FROM_COMMUNITY):
        message_create(author=member, conversation=conversations[0], body="Thanks")
