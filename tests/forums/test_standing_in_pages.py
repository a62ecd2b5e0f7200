"""Pages offer a member only what the services would accept from them: a suspended
member reads but is offered no writing, a restricted member (too many hidden posts)
is offered no posting. The rules live in accounts.standing and forums.permissions;
these tests check that the templates ask them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import member_suspend
from moderation.services import host_add, thread_lock
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory


def _text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _post_html(page: str, number: int) -> str:
    start = page.index(f'id="post-{number}"')
    return page[start:page.index("</article>", start)]


@pytest.fixture
def others_thread(forum, other_member):
    """A thread by someone else, with a reply by them too: every member action applies."""
    thread = ThreadFactory(forum=forum, author=other_member)
    ReplyFactory(parent=thread.posts.get(number=0), author=other_member)
    return thread


@pytest.fixture
def staff(db):
    member = MemberFactory()
    User.objects.filter(pk=member.pk).update(is_staff=True)
    member.refresh_from_db()
    return member


def _restrict(member):
    User.objects.filter(pk=member.pk).update(restricted_until=timezone.now() + timedelta(days=3))
    member.refresh_from_db()


def _offers(page: str, thread) -> dict:
    return {
        "reply": reverse("forums:reply-create", args=[thread.pk, 0]) + '"' in page,
        "quote": reverse("forums:reply-create", args=[thread.pk, 0]) + '?quote=1"' in page,
        "recommend": ">Recommend</button>" in page,
        "alert": reverse("moderation:alert-create", args=[thread.pk, 0]) in page,
        "trash": f'formaction="{reverse("forums:thread-trash", args=[thread.pk])}" name="trash" value="1"' in page,
        "follow": ">Follow</button>" in page,
    }


EVERYTHING = {"reply": True, "quote": True, "recommend": True, "alert": True, "trash": True, "follow": True}


@pytest.mark.parametrize("view_all", [False, True])
def test_thread_page_offers_a_member_every_action(member_client, others_thread, view_all):
    url = others_thread.get_view_all_url() if view_all else others_thread.get_absolute_url()
    page = _text(member_client.get(url))

    assert _offers(page, others_thread) == EVERYTHING
    if view_all:
        reply = _post_html(page, 1)
        reply_url = reverse("forums:reply-create", args=[others_thread.pk, 1])
        assert f'href="{reply_url}"' in reply and f'href="{reply_url}?quote=1"' in reply
        assert ">Recommend</button>" in reply
        assert reverse("moderation:alert-create", args=[others_thread.pk, 1]) in reply


@pytest.mark.parametrize("view_all", [False, True])
def test_thread_page_offers_a_suspended_member_no_writing(
    member_client, member, others_thread, view_all
):
    member_suspend(member=member, reason="Spam")
    url = others_thread.get_view_all_url() if view_all else others_thread.get_absolute_url()
    page = _text(member_client.get(url))

    # Following and trashing only change what the member reads; the services allow them.
    assert _offers(page, others_thread) == {
        "reply": False, "quote": False, "recommend": False, "alert": False,
        "trash": True, "follow": True,
    }
    assert ">Reply</a>" not in page and "?quote=1" not in page
    assert "/moderation/alert/" not in page and "/recommend/" not in page


@pytest.mark.parametrize("view_all", [False, True])
def test_thread_page_offers_a_restricted_member_no_reply_but_recommend_and_alert(
    member_client, member, others_thread, view_all
):
    _restrict(member)
    url = others_thread.get_view_all_url() if view_all else others_thread.get_absolute_url()
    page = _text(member_client.get(url))

    assert _offers(page, others_thread) == {**EVERYTHING, "reply": False, "quote": False}
    assert ">Reply</a>" not in page and "?quote=1" not in page


def test_locked_thread_offers_no_reply(member_client, others_thread, staff):
    thread_lock(moderator=staff, thread=others_thread, lock=True)
    page = _text(member_client.get(others_thread.get_view_all_url()))

    assert ">Reply</a>" not in page
    assert ">Recommend</button>" in page


def test_forum_page_offers_post_new_thread_to_members_in_good_standing(member_client, forum):
    url = forum.get_absolute_url()
    assert "Post new thread" in _text(member_client.get(url))
    # Visitors see it too: it leads them to log in.
    assert "Post new thread" in _text(Client().get(url))


@pytest.mark.parametrize("standing", ["suspended", "restricted"])
def test_forum_page_offers_no_new_thread_to_suspended_or_restricted_members(
    member_client, member, forum, standing
):
    if standing == "suspended":
        member_suspend(member=member, reason="Spam")
    else:
        _restrict(member)
    page = _text(member_client.get(forum.get_absolute_url()))

    assert "Post new thread" not in page
    assert reverse("forums:thread-create", args=[forum.slug]) not in page


@pytest.mark.parametrize(
    "who, standing, offered",
    [
        ("host", "good", True),
        ("host", "suspended", False),
        ("host", "restricted", False),
        ("staff", "good", True),
        ("staff", "suspended", False),
        # Staff moderate while restricted; only hosts are stopped by hidden posts.
        ("staff", "restricted", True),
        ("member", "good", False),
    ],
)
def test_host_tools_only_for_those_who_may_moderate(
    client, others_thread, member, staff, who, standing, offered
):
    host_add(moderator=staff, forum=others_thread.forum, member=member)
    user = {"host": member, "staff": staff, "member": MemberFactory()}[who]
    if standing == "suspended":
        member_suspend(member=user, reason="Spam")
    elif standing == "restricted":
        _restrict(user)
    client.force_login(user)

    page = _text(client.get(others_thread.get_absolute_url()))

    assert ("Host tools" in page) is offered
    assert (reverse("moderation:thread-lock", args=[others_thread.pk]) in page) is offered


@pytest.mark.parametrize("logged_in", [False, True])
def test_host_badge_marks_replies_by_the_forums_hosts(
    client, forum, other_member, staff, logged_in
):
    host, guest = MemberFactory(), MemberFactory()
    host_add(moderator=staff, forum=forum, member=host)
    thread = ThreadFactory(forum=forum, author=other_member)
    opening_post = thread.posts.get(number=0)
    by_host = ReplyFactory(parent=opening_post, author=host)
    by_guest = ReplyFactory(parent=opening_post, author=guest)
    if logged_in:
        client.force_login(MemberFactory())

    page = _text(client.get(thread.get_view_all_url()))

    assert '<span class="badge badge-host"' in _post_html(page, by_host.number)
    assert "badge-host" not in _post_html(page, by_guest.number)
    assert "badge-host" not in _post_html(page, 0)
    assert page.count("badge-host") == 1


def test_host_badge_is_only_for_hosts_of_this_forum(client, forum, other_member, staff):
    elsewhere = MemberFactory()
    other_forum = ThreadFactory().forum
    host_add(moderator=staff, forum=other_forum, member=elsewhere)
    thread = ThreadFactory(forum=forum, author=other_member)
    ReplyFactory(parent=thread.posts.get(number=0), author=elsewhere)

    assert "badge-host" not in _text(client.get(thread.get_view_all_url()))


def test_host_badge_on_the_opening_post_of_a_host(client, forum, staff):
    host = MemberFactory()
    host_add(moderator=staff, forum=forum, member=host)
    thread = ThreadFactory(forum=forum, author=host)

    page = _text(client.get(thread.get_absolute_url()))

    assert "badge-host" in _post_html(page, 0)


def test_suspended_member_is_not_offered_a_new_message(client, member):
    client.force_login(member)
    assert "New message" in client.get(reverse("conversations:inbox")).content.decode()
    member_suspend(member=member, reason="Spam")
    page = client.get(reverse("conversations:inbox")).content.decode()
    assert "New message" not in page
    # ...which the page would refuse anyway.
    assert client.get(reverse("conversations:conversation-create")).status_code == 403
