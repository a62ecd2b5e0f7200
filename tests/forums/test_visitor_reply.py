"""Visitors reading a thread get a way in: "Log in or create a free account to reply",
and a "Reply" on each post, which bring the member back to the reply form they wanted.
The prompt is the same for every visitor, so the cached visitors' pages stay right."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import User
from config.page_cache import HEADER
from moderation.services import thread_lock
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

PASSWORD = "a long and unusual passphrase"
PROMPT = (
    '<p class="reply-prompt"><a href="/accounts/login/?next={reply}">Log in</a> or '
    '<a href="/accounts/signup/?next={reply}">create a free account</a> to reply.</p>'
)


def _reply_url(post):
    return reverse("forums:reply-create", args=[post.thread_id, post.number])


@pytest.fixture
def replied(thread, opening_post, other_member):
    return ReplyFactory(parent=opening_post, author=other_member)


def test_visitor_sees_the_prompt_and_a_reply_link_on_every_post(client, thread, opening_post, replied):
    for url in [thread.get_absolute_url(), thread.get_view_all_url()]:
        page = client.get(url).content.decode()
        assert PROMPT.format(reply=_reply_url(opening_post)) in page
        assert f'<a href="{_reply_url(opening_post)}">Reply</a>' in page
    view_all = client.get(thread.get_view_all_url()).content.decode()
    assert f'<a href="{_reply_url(replied)}">Reply</a>' in view_all


def test_each_thread_prompts_for_its_own_reply_form(client, thread, opening_post):
    """The prompt is kept per process (config.including), by the thread it leads to."""
    others = ThreadFactory.create_batch(2, forum=thread.forum)
    for shown in [thread, *others, thread]:
        page = client.get(shown.get_absolute_url()).content.decode()
        assert PROMPT.format(reply=_reply_url(shown.posts.get(number=0))) in page
        assert page.count('class="reply-prompt"') == 1


def test_members_and_locked_threads_get_no_visitor_prompt(member_client, thread, opening_post):
    assert 'class="reply-prompt"' not in member_client.get(thread.get_absolute_url()).content.decode()
    staff = MemberFactory()
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    thread_lock(moderator=User.objects.get(pk=staff.pk), thread=thread, lock=True)
    visitor = Client().get(thread.get_absolute_url()).content.decode()
    assert 'class="reply-prompt"' not in visitor
    assert f'href="{_reply_url(opening_post)}"' not in visitor


def test_every_visitor_gets_the_same_cached_prompt(settings, thread, opening_post):
    settings.FORUMS_PAGE_CACHE_SECONDS = 60
    cache.clear()
    first, second = Client().get(thread.get_absolute_url()), Client().get(thread.get_absolute_url())
    assert second[HEADER] == "hit" and second.content == first.content
    assert PROMPT.format(reply=_reply_url(opening_post)) in second.content.decode()


def test_login_from_the_prompt_lands_on_the_reply_form(client, opening_post):
    member = MemberFactory(password=PASSWORD)
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    reply_url = _reply_url(opening_post)

    page = client.get(f"{reverse('account_login')}?next={reply_url}").content.decode()
    assert f'href="/accounts/signup/?next={reply_url.replace("/", "%2F")}"' in page  # the way to sign up keeps it
    response = client.post(reverse("account_login"), {"login": member.username, "password": PASSWORD,
                                                      "next": reply_url})
    assert response.status_code == 302 and response["Location"] == reply_url
    assert client.get(reply_url).status_code == 200


def test_signup_from_the_prompt_lands_on_the_reply_form(client, opening_post):
    reply_url = _reply_url(opening_post)
    response = client.post(reverse("account_signup"), {
        "username": "newcomer", "email": "newcomer@example.org",
        "password1": PASSWORD, "password2": PASSWORD, "next": reply_url,
    })
    assert response.status_code == 302 and response["Location"] == reply_url
    assert User.objects.filter(username="newcomer").exists() and len(mail.outbox) == 1


def test_signup_then_confirming_lands_on_the_reply_form_where_confirming_is_mandatory(client, opening_post,
                                                                                     settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    reply_url = _reply_url(opening_post)
    response = client.post(reverse("account_signup"), {
        "username": "newcomer", "email": "newcomer@example.org",
        "password1": PASSWORD, "password2": PASSWORD, "next": reply_url,
    })
    assert response["Location"] == reverse("account_email_verification_sent")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == reply_url
    assert client.get(reply_url).status_code == 200


@pytest.mark.parametrize("elsewhere", [
    "https://evil.example/", "//evil.example/", "http:evil.example", "/\\evil.example",
    "javascript:alert(1)",
])
def test_login_never_follows_a_next_off_the_site(client, db, elsewhere):
    member = MemberFactory(password=PASSWORD)
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    response = client.post(reverse("account_login"), {"login": member.username, "password": PASSWORD,
                                                      "next": elsewhere})
    assert response.status_code == 302 and response["Location"] == reverse("forums:home")
