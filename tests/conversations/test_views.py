"""Private messages through the pages, as members see them."""

import random
from html.parser import HTMLParser
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import member_suspend
from conversations.models import Conversation, Message
from conversations.services import message_create, message_from_community
from forums.services import member_ignore_set
from moderation.models import JurySeat
from moderation.services import alert_create, alert_rule_create, jury_vote
from tests.factories import MemberFactory, ReplyFactory
from tests.pictures import pending_picture, placed

INBOX = reverse("conversations:inbox")
SENT = reverse("conversations:sent")
NEW = reverse("conversations:conversation-create")


def _text(response) -> str:
    return response.content.decode()


def _url(conversation) -> str:
    return reverse("conversations:conversation-detail", args=[conversation.pk])


def _header_count(client) -> str:
    """The "Messages" link in the header, as the member sees it."""
    page = _text(client.get(reverse("forums:home")))
    start = page.index(f'<a href="{INBOX}">')
    return page[start: page.index("</a>", start)]


def _send(client, **data):
    return client.post(NEW, {"post": "1", **data})


# Visitors, outsiders, participants.


@pytest.mark.parametrize("url", [INBOX, SENT, NEW, f"{NEW}?to=someone"])
def test_every_page_sends_visitors_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_conversation_sends_visitors_to_login(client, conversation):
    for response in (client.get(_url(conversation)), client.post(_url(conversation), {"body": "hi", "post": "1"})):
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    response = client.post(NEW, {"recipient": "x", "subject": "s", "body": "b", "post": "1"})
    assert response.status_code == 302
    assert Message.objects.count() == 1


def test_outsiders_do_not_see_a_conversation(client, outsider, conversation):
    client.force_login(outsider)
    assert client.get(_url(conversation)).status_code == 404
    assert client.post(_url(conversation), {"body": "Let me in", "post": "1"}).status_code == 404
    assert "About the meetup" not in _text(client.get(INBOX))
    assert Message.objects.count() == 1


def test_unknown_conversation_is_404(member_client):
    assert member_client.get(reverse("conversations:conversation-detail", args=[999])).status_code == 404


# Starting a conversation and answering.


def test_start_a_conversation_and_answer(client, member, other_member):
    client.force_login(member)
    form = client.get(f"{NEW}?to={other_member.username}")
    assert f'value="{other_member.username}"' in _text(form)

    response = _send(client, recipient=other_member.username, subject="Meetup", body="Are you *coming*?")

    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"].startswith(_url(conversation))
    assert "Meetup" in _text(client.get(SENT))
    assert "0 new" not in _text(client.get(INBOX))

    client.force_login(other_member)
    assert ">1<" in _header_count(client)
    inbox = _text(client.get(INBOX))
    assert "Meetup" in inbox and "1 new" in inbox and member.public_name in inbox
    page = _text(client.get(_url(conversation)))
    assert "<em>coming</em>" in page
    assert ">1<" not in _header_count(client)  # opened, so read
    response = client.post(_url(conversation), {"body": "Yes, **see you** there.", "post": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#message-2")

    client.force_login(member)
    assert ">1<" in _header_count(client)
    page = _text(client.get(_url(conversation)))
    assert "<em>coming</em>" in page and "<strong>see you</strong>" in page
    assert page.index("<em>coming</em>") < page.index("<strong>see you</strong>")  # oldest first
    assert "badge-count" not in _header_count(client)


def test_opening_marks_new_messages_and_the_header_drops_at_once(member_client, member, conversation):
    page = _text(member_client.get(_url(conversation)))
    assert "badge-new" in page  # the message is marked new this once
    header = page[page.index(f'<a href="{INBOX}">'):]
    assert header.startswith(f'<a href="{INBOX}">Messages</a>')
    assert "badge-new" not in _text(member_client.get(_url(conversation)))
    assert User.objects.get(pk=member.pk).unread_message_count == 0


def test_preview_shows_the_message_without_sending(member_client, other_member):
    response = member_client.post(NEW, {"recipient": other_member.username, "subject": "S",
                                        "body": "**bold** idea", "preview": "1"})
    assert response.status_code == 200 and "<strong>bold</strong>" in _text(response)
    assert not Conversation.objects.exists()


class _Tags(HTMLParser):
    """Every tag and attribute the browser would build from the page."""

    def __init__(self):
        super().__init__()
        self.seen, self.attributes = set(), []

    def handle_starttag(self, tag, attrs):
        self.seen.add(tag)
        self.attributes.extend(attrs)


HOSTILE = ['<script>alert("pm")</script>', '<img src=x onerror="alert(1)">', "[click](javascript:alert(1))"]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_html_is_inert(member_client, member, other_member, body):
    response = _send(member_client, recipient=other_member.username, subject="<b>Hi</b>", body=body)
    assert response.status_code == 302
    page = _text(member_client.get(_url(Conversation.objects.get())))
    start = page.index('<div class="post-body">')
    tags = _Tags()
    tags.feed(page[start: page.index("</div>", start)])
    assert tags.seen <= {"div", "p", "a", "code", "pre"}
    assert "<script>alert" not in page
    assert not [name for name, _value in tags.attributes if name.startswith("on")]
    assert not [value for name, value in tags.attributes if "javascript" in (value or "").lower()]
    assert "&lt;b&gt;Hi&lt;/b&gt;" in page  # the subject is plain text


def test_long_conversation_is_paginated_and_opens_at_the_first_unread(
    client, member, other_member, conversation, settings
):
    settings.FORUMS_MESSAGES_PER_PAGE = 3
    client.force_login(member)
    client.get(_url(conversation))  # read the first message
    for n in range(2, 8):
        author = other_member if n % 2 else member
        message_create(author=author, conversation=conversation, body=f"Message number {n}")
    # Messages 1-6 are read (member wrote 6), only 7 is new: page 3 of 3.
    page = _text(client.get(_url(conversation)))
    assert "Message number 7" in page and "Message number 6" not in page
    assert "Page 3 of 3" in page
    first = _text(client.get(_url(conversation) + "?page=1"))
    assert "A first message." in first and "Message number 4" not in first
    assert client.get(_url(conversation) + "?page=9").status_code == 404


# Refusals: shown on the form, next to the field, with the right status.


def test_unknown_recipient_is_400_with_a_message(member_client):
    response = _send(member_client, recipient="nobody-here", subject="Hi", body="Hello")
    assert response.status_code == 400
    assert "There is no member called “nobody-here”" in _text(response)
    assert 'id="id_recipient_error"' in _text(response)
    assert "Hello" in _text(response)  # nothing typed is lost
    assert not Conversation.objects.exists()


def test_missing_fields_are_400_next_to_the_field(member_client, other_member):
    response = _send(member_client, recipient=other_member.username, subject="", body="")
    assert response.status_code == 400
    assert 'id="id_subject_error"' in _text(response) and 'id="id_body_error"' in _text(response)


def test_cannot_message_yourself(member_client, member):
    response = _send(member_client, recipient=member.username, subject="Me", body="Note to self")
    assert response.status_code == 403
    assert "You cannot send a message to yourself." in _text(response)
    assert 'id="id_recipient_error"' in _text(response)
    assert not Conversation.objects.exists()


def test_ignored_by_the_recipient_is_refused_and_nothing_saved(member_client, member, other_member):
    member_ignore_set(member=other_member, other=member, ignore=True)
    response = _send(member_client, recipient=other_member.username, subject="Hi", body="Hear me out")
    assert response.status_code == 403
    assert f"{other_member.public_name} does not accept messages from you." in _text(response)
    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert User.objects.get(pk=other_member.pk).unread_message_count == 0


def test_ignored_participant_sees_why_instead_of_the_answer_form(member_client, member, other_member, conversation):
    member_ignore_set(member=other_member, other=member, ignore=True)
    page = _text(member_client.get(_url(conversation)))
    assert "does not accept messages from you" in page and 'name="body"' not in page
    response = member_client.post(_url(conversation), {"body": "Still here", "post": "1"})
    assert response.status_code == 403 and conversation.messages.count() == 1


def test_suspended_member_is_refused_with_reason(member_client, member, other_member, conversation):
    member_suspend(member=member, reason="Name-calling", until=timezone.now() + timedelta(days=1))
    for response in (
        member_client.get(NEW),
        _send(member_client, recipient=other_member.username, subject="Hi", body="Hello"),
        member_client.post(_url(conversation), {"body": "Hello", "post": "1"}),
    ):
        assert response.status_code == 403
        assert "Name-calling" in _text(response) and "suspended until" in _text(response)
    assert Message.objects.count() == 1
    # They can still read what they were sent.
    assert member_client.get(_url(conversation)).status_code == 200


@pytest.fixture
def newcomer(db, settings):
    settings.FORUMS_NEW_MEMBER_POSTS = 10
    return MemberFactory(joined_at=timezone.now() - timedelta(hours=2))


def test_new_member_waits_between_messages_429(client, newcomer, other_member):
    client.force_login(newcomer)
    assert _send(client, recipient=other_member.username, subject="Hi", body="One").status_code == 302
    conversation = Conversation.objects.get()

    too_soon = client.post(_url(conversation), {"body": "Two", "post": "1"})

    assert too_soon.status_code == 429
    assert "New members can send a message once every 30 seconds" in _text(too_soon)
    assert 1 <= int(too_soon["Retry-After"]) <= 30
    assert "This limit ends once you have 10 posts and have been a member for 24 hours." in _text(too_soon)
    assert "Two" in _text(too_soon)  # still in the form
    assert conversation.messages.count() == 1


def test_new_member_conversations_an_hour_429(client, newcomer, start_conversation):
    earlier = timezone.now() - timedelta(minutes=45)
    for n in range(3):
        start_conversation(newcomer, MemberFactory(), created_at=earlier + timedelta(minutes=n))
    client.force_login(newcomer)
    response = _send(client, recipient=MemberFactory().username, subject="Hi", body="Fourth")
    assert response.status_code == 429
    assert "New members can start at most 3 conversations an hour" in _text(response)
    # The oldest of the three leaves the hour in 15 minutes.
    assert 14 * 60 <= int(response["Retry-After"]) <= 15 * 60
    assert Conversation.objects.count() == 3


# Profile link.


def test_profile_offers_to_send_a_message(client, member, other_member):
    url = reverse("members:member-detail", args=[other_member.username])
    assert "Send a message" not in _text(client.get(url))
    client.force_login(member)
    assert f"{NEW}?to={other_member.username}" in _text(client.get(url))
    assert "Send a message" not in _text(client.get(reverse("members:member-detail", args=[member.username])))


# Jury results arrive as messages from the community.


def test_jury_verdict_is_delivered_to_poster_and_alerter(client, opening_post, other_member):
    rule = alert_rule_create(slug="personal-attack", name="No personal attacks")
    MemberFactory.create_batch(10)
    reply = ReplyFactory(parent=opening_post, author=other_member, body="You are an idiot.")
    alerter = MemberFactory()
    jury = alert_create(alerter=alerter, post=reply, rule=rule, rng=random.Random(1)).jury
    seats = list(jury.seats.select_related("juror"))
    jurors = [seat.juror for seat in seats]
    answers = [JurySeat.Answer.CLEAR_BREAK] * 4 + [JurySeat.Answer.CLEAR_KEEP]
    for juror, answer in zip([*jurors[4:5], *jurors[:4]], answers[::-1]):
        jury_vote(juror=juror, jury=jury, answer=answer, rng=random.Random(2))

    result_url = reverse("moderation:jury-result", args=[jury.pk])
    for member in (other_member, alerter):
        conversation = Conversation.objects.get(participants__member=member)
        assert conversation.is_from_community
        client.force_login(member)
        assert ">1<" in _header_count(client)
        page = _text(client.get(_url(conversation)))
        assert "No personal attacks" in page
        assert "The post breaks the rule and is hidden" in page
        assert "4 of 5 jurors said it breaks the rule, 1 said it does not" in page
        assert f'href="{result_url}"' in page
        assert "from the community" in page and 'name="body"' not in page
        for juror in jurors:
            assert juror.public_name not in page and juror.username not in page
    # One conversation each: the poster does not learn who alerted.
    assert Conversation.objects.count() == 2
    assert not Conversation.objects.filter(participants__member__in=jurors).exists()


# Query counts: constant, whatever the number of rows.


@pytest.fixture
def busy_inbox(member, start_conversation):
    """Three members write to `member`, member writes to two more, one community message."""
    writers = MemberFactory.create_batch(3)
    for n, writer in enumerate(writers):
        conversation = start_conversation(writer, member, subject=f"From writer {n}")
        message_create(author=member, conversation=conversation, body="Thanks!")
        message_create(author=writer, conversation=conversation, body="You're welcome.")
    for n, recipient in enumerate(MemberFactory.create_batch(2)):
        start_conversation(member, recipient, subject=f"To recipient {n}")
    message_from_community(recipients=[member], subject="Jury result", body="The verdict.")
    return writers


def test_inbox_query_count(member_client, busy_inbox, django_assert_num_queries):
    # session, member, header 3, count, one page of seats with conversations, others
    with django_assert_num_queries(8):
        response = member_client.get(INBOX)
    page = _text(response)
    assert page.count("<tr") == 7  # head and six conversations
    for writer in busy_inbox:
        assert writer.public_name in page
    assert "From the community" in page


def test_sent_query_count(member_client, busy_inbox, django_assert_num_queries):
    with django_assert_num_queries(8):
        response = member_client.get(SENT)
    assert _text(response).count("<tr") == 6  # head and five conversations


@pytest.mark.parametrize("answers", [0, 6])
def test_conversation_query_count(member_client, member, other_member, conversation, answers,
                                  django_assert_num_queries):
    for n in range(answers):
        # Pictures are part of the messages' HTML: they cost no query to show.
        author = other_member if n % 2 else member
        picture = pending_picture(author)
        message_create(author=author, conversation=conversation, body=f"M{n} {placed(picture)}")
    member_client.get(_url(conversation))  # read: the steady state
    # session, member, seat with conversation, messages with authors, other
    # participants, whether they ignore the member (the header comes from the cache),
    # the member's pictures not placed yet (for the answer form)
    with django_assert_num_queries(7):
        response = member_client.get(_url(conversation))
    assert _text(response).count('class="post message') == answers + 1
    assert _text(response).count('<img alt="A red square"') == answers


def test_conversation_with_unread_messages_query_count(member_client, member, other_member, conversation,
                                                       django_assert_num_queries):
    for n in range(3):
        message_create(author=other_member, conversation=conversation, body=f"M{n}")
    # As above, plus marking read: savepoint, member's row locked, seat, seat reset,
    # header count down, header count reloaded, savepoint released.
    with django_assert_num_queries(17):
        response = member_client.get(_url(conversation))
    assert response.status_code == 200


def test_sending_needs_the_csrf_token(member, other_member, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    for url, data in [
        (NEW, {"recipient": other_member.username, "subject": "Hi", "body": "Hello", "post": "1"}),
        (_url(conversation), {"body": "Hello", "post": "1"}),
    ]:
        assert client.post(url, data).status_code == 403
    assert Message.objects.count() == 1
