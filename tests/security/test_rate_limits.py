"""Abuse limits: every limited action is hit until it answers 429, with the message in
the site layout, a Retry-After header, and nothing written by the refused request.

allauth limits signup, login and password resets (ACCOUNT_RATE_LIMITS); config/ratelimit.py
limits posting, alerts, private messages and search (FORUMS_RATE_LIMITS). Each test sets
the limit it hits low; tests/conftest.py turns FORUMS_RATE_LIMITS off for other suites.
"""

import html
import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from config import ratelimit
from conversations.models import Conversation, Message
from conversations.services import conversation_create
from forums.models import Post, Thread
from moderation.models import Alert, AlertRule, Jury
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

TOO_OFTEN = re.compile(r"You're doing that too often; try again in (\d+) seconds?\.")
PASSWORD = "correct horse battery staple"


def assert_refused(response, *, most_seconds: int) -> int:
    """429, the message in the site layout, and a Retry-After that matches it."""
    assert response.status_code == 429
    page = html.unescape(response.content.decode())
    assert 'id="content"' in page and "skip-link" in page  # the site layout, not a bare page
    found = TOO_OFTEN.search(page)
    assert found, page[:2000]
    seconds = int(found.group(1))
    assert 1 <= seconds <= most_seconds
    assert response["Retry-After"] == str(seconds)
    return seconds


@pytest.fixture
def limits(settings):
    """Set FORUMS_RATE_LIMITS for one test: `limits(post="2/m")`."""

    def set_limits(**rates):
        settings.FORUMS_RATE_LIMITS = rates

    return set_limits


# allauth: signup, login, password reset


def _signup(client, n):
    return client.post(
        reverse("account_signup"),
        {
            "username": f"newcomer{n}", "email": f"newcomer{n}@example.org",
            "password1": PASSWORD, "password2": PASSWORD,
        },
    )


def test_signup_limit_per_ip_429(db, settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    User = get_user_model()
    for n in range(2):
        assert _signup(Client(), n).status_code == 302
    assert User.objects.count() == 2
    refused = _signup(Client(), 2)
    assert_refused(refused, most_seconds=60)
    assert User.objects.count() == 2
    assert not User.objects.filter(username="newcomer2").exists()
    # Another address is counted on its own.
    assert _signup(Client(REMOTE_ADDR="203.0.113.9"), 3).status_code == 302


def test_login_limit_per_ip_429(member, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    url = reverse("account_login")
    client = Client()
    for _ in range(2):
        assert client.post(url, {"login": member.username, "password": "wrong"}).status_code == 200
    refused = client.post(url, {"login": member.username, "password": PASSWORD})
    assert_refused(refused, most_seconds=60)
    assert "_auth_user_id" not in client.session
    member.refresh_from_db()
    assert member.last_login is None


def test_failed_logins_lock_the_account_for_a_while(member, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "2/5m/key"}
    url = reverse("account_login")
    client = Client()
    for _ in range(2):
        client.post(url, {"login": member.username, "password": "wrong"})
    # Even the right password is refused now: guessing has stopped paying.
    refused = client.post(url, {"login": member.username, "password": PASSWORD})
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_limit_429_sends_no_email(member, settings):
    settings.ACCOUNT_RATE_LIMITS = {"reset_password": "2/m/ip"}
    url = reverse("account_reset_password")
    client = Client()
    for _ in range(2):
        assert client.post(url, {"email": member.email}).status_code == 302
    assert len(mail.outbox) == 2
    refused = client.post(url, {"email": member.email})
    assert_refused(refused, most_seconds=60)
    assert len(mail.outbox) == 2


def test_login_behind_nginx_on_a_unix_socket(member, settings):
    """gunicorn on a Unix socket (deploy/) gives no REMOTE_ADDR; production trusts the
    X-Forwarded-For entry nginx adds, so logins work and are counted per client."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {"login": "1/m/ip"}
    url = reverse("account_login")
    first = Client(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="198.51.100.1")
    response = first.post(url, {"login": member.username, "password": PASSWORD})
    assert response.status_code == 302
    assert first.session["_auth_user_id"] == str(member.pk)
    assert_refused(
        Client(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="198.51.100.1").post(
            url, {"login": member.username, "password": PASSWORD}
        ),
        most_seconds=60,
    )
    # A client may prepend anything; only the entry nginx appended counts.
    other = Client(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="198.51.100.1, 198.51.100.2")
    assert other.post(url, {"login": member.username, "password": PASSWORD}).status_code == 302


# Posting: new threads and replies share one limit per member


def _new_thread(client, forum, n):
    return client.post(
        reverse("forums:thread-create", args=[forum.slug]),
        {"title": f"Limited thread {n}", "body": "Some words about it.", "post": "1"},
    )


def test_new_thread_limit_429_keeps_the_text(member_client, forum, limits):
    limits(post="2/m")
    for n in range(2):
        assert _new_thread(member_client, forum, n).status_code == 302
    # A preview is not a post and does not count.
    preview = member_client.post(
        reverse("forums:thread-create", args=[forum.slug]),
        {"title": "Just looking", "body": "Preview me.", "preview": "1"},
    )
    assert preview.status_code == 200
    threads, posts = Thread.objects.count(), Post.objects.count()
    refused = _new_thread(member_client, forum, 2)
    assert_refused(refused, most_seconds=60)
    assert (Thread.objects.count(), Post.objects.count()) == (threads, posts)
    forum.refresh_from_db()
    assert forum.thread_count == threads
    # What the member typed is still in the form.
    assert "Limited thread 2" in refused.content.decode()


def test_reply_limit_429_counts_threads_and_replies_together(member_client, member, forum, limits):
    limits(post="2/m")
    assert _new_thread(member_client, forum, 0).status_code == 302
    thread = Thread.objects.get(title="Limited thread 0")
    url = reverse("forums:reply-create", args=[thread.pk, 0])
    assert member_client.post(url, {"body": "First reply.", "post": "1"}).status_code == 302
    refused = member_client.post(url, {"body": "Second reply.", "post": "1"})
    assert_refused(refused, most_seconds=60)
    thread.refresh_from_db()
    assert thread.reply_count == 1 == thread.posts.exclude(number=0).count()
    member.refresh_from_db()
    assert member.post_count == 2
    # The limit is per member: someone else still replies.
    other = Client()
    other.force_login(MemberFactory())
    assert other.post(url, {"body": "Another voice.", "post": "1"}).status_code == 302


def test_post_limit_has_an_hourly_window_too(member_client, forum, limits):
    limits(post="5/m,2/h")
    for n in range(2):
        assert _new_thread(member_client, forum, n).status_code == 302
    seconds = assert_refused(_new_thread(member_client, forum, 2), most_seconds=3600)
    assert Thread.objects.count() == 2
    assert seconds >= 1


def test_limit_opens_again_when_the_window_ends(member_client, forum, limits):
    limits(post="1/m")
    now = 1_800_000_000.0  # the start of a minute
    with mock.patch.object(ratelimit.time, "time", return_value=now + 10):
        assert _new_thread(member_client, forum, 0).status_code == 302
        assert assert_refused(_new_thread(member_client, forum, 1), most_seconds=60) == 50
    with mock.patch.object(ratelimit.time, "time", return_value=now + 61):
        assert _new_thread(member_client, forum, 2).status_code == 302
    assert Thread.objects.count() == 2


def test_a_failing_cache_lets_members_post(member_client, forum, limits):
    """A limit must not take the site down with Redis: errors let the request through."""
    limits(post="1/m")
    with mock.patch.object(ratelimit.cache, "add", side_effect=ConnectionError("redis is down")):
        for n in range(3):
            assert _new_thread(member_client, forum, n).status_code == 302
    assert Thread.objects.count() == 3


# Alerts


def test_alert_limit_429_seats_no_jury(member_client, member, limits):
    limits(alert="2/m")
    rule = AlertRule.objects.create(slug="spam", name="No spam")
    posts = [ReplyFactory() for _ in range(3)]
    for post in posts[:2]:
        response = member_client.post(
            reverse("moderation:alert-create", args=[post.thread_id, post.number]), {"rule": rule.pk}
        )
        assert response.status_code == 302
    alerts, juries = Alert.objects.count(), Jury.objects.count()
    last = posts[2]
    refused = member_client.post(
        reverse("moderation:alert-create", args=[last.thread_id, last.number]),
        {"rule": rule.pk, "comment": "Spam again"},
    )
    assert_refused(refused, most_seconds=60)
    assert (Alert.objects.count(), Jury.objects.count()) == (alerts, juries)
    assert not Alert.objects.filter(post=last).exists()


# Private messages: new conversations and answers share one limit


def test_private_message_limit_429(member_client, member, other_member, limits):
    limits(message="2/m")
    create = member_client.post(
        reverse("conversations:conversation-create"),
        {"recipient": other_member.username, "subject": "Hello", "body": "First message."},
    )
    assert create.status_code == 302
    conversation = Conversation.objects.get()
    url = reverse("conversations:conversation-detail", args=[conversation.pk])
    assert member_client.post(url, {"body": "Second message."}).status_code == 302
    refused = member_client.post(url, {"body": "Third message."})
    assert_refused(refused, most_seconds=60)
    assert "Third message." in refused.content.decode()
    refused_new = member_client.post(
        reverse("conversations:conversation-create"),
        {"recipient": other_member.username, "subject": "Again", "body": "Another."},
    )
    assert_refused(refused_new, most_seconds=60)
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 2
    conversation.refresh_from_db()
    assert conversation.message_count == 2


def test_message_limit_is_per_member(member, other_member, limits):
    limits(message="1/m")
    conversation = conversation_create(
        sender=member, recipient=other_member, subject="Hi", body="Opening."
    )
    url = reverse("conversations:conversation-detail", args=[conversation.pk])
    for author in (member, other_member):
        client = Client()
        client.force_login(author)
        assert client.post(url, {"body": f"From {author.username}"}).status_code == 302
    assert Message.objects.filter(conversation=conversation).count() == 3


# Search: per member, and per IP for visitors


def test_search_limit_for_visitors_is_per_ip(db, limits):
    limits(search="2/m")
    ThreadFactory(title="Gardening in winter")
    url = reverse("forums:search")
    visitor = Client()
    for _ in range(2):
        response = visitor.get(url, {"q": "gardening"})
        assert response.status_code == 200
        assert "Gardening" in response.content.decode()
    refused = visitor.get(url, {"q": "gardening"})
    assert_refused(refused, most_seconds=60)
    assert "posts found" not in refused.content.decode()
    # The empty search form costs nothing and is never refused.
    assert visitor.get(url).status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.7").get(url, {"q": "gardening"}).status_code == 200


def test_search_limit_for_members_is_per_member(member, other_member, limits):
    limits(search="1/m")
    url = reverse("forums:search")
    first, second = Client(), Client()
    first.force_login(member)
    second.force_login(other_member)
    assert first.get(url, {"q": "anything"}).status_code == 200
    assert_refused(first.get(url, {"q": "anything"}), most_seconds=60)
    # Same address, different member.
    assert second.get(url, {"q": "anything"}).status_code == 200


def test_default_limits_are_set_for_every_action():
    from config import settings as project_settings

    for action in ("post", "alert", "message", "search"):
        rates = ratelimit.parse_rates(project_settings.FORUMS_RATE_LIMITS[action])
        assert rates and all(amount > 0 and period > 0 for amount, period in rates)


def test_parse_rates_reads_allauths_syntax():
    assert ratelimit.parse_rates("6/m,60/h") == [(6, 60), (60, 3600)]
    assert ratelimit.parse_rates("5/300s/key, 20/m/ip") == [(5, 300), (20, 60)]
    assert ratelimit.parse_rates("3/2h") == [(3, 7200)]
    assert ratelimit.parse_rates("") == ratelimit.parse_rates(None) == []
