"""Hosts and staff: the permission ladder on every moderation URL, and what each
action does (and records in the public log)."""

import random

import pytest
from django.urls import reverse

from accounts.models import User
from forums.models import Forum, ForumBlock, Post, Thread
from forums.services import reply_create
from moderation.models import ModerationAction
from moderation.services import alert_create, alert_rule_create
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory


@pytest.fixture
def cast(db):
    forum, other_forum = ForumFactory(name="Pets"), ForumFactory(name="Sports")
    host, other_host = MemberFactory(username="pethost"), MemberFactory(username="sportshost")
    forum.hosts.add(host)
    other_forum.hosts.add(other_host)
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    thread = ThreadFactory(forum=forum, title="Cats or dogs?")
    reply = ReplyFactory(parent=thread.posts.get(number=0))
    return {
        "forum": forum, "other_forum": other_forum, "host": host, "other_host": other_host,
        "staff": staff, "member": MemberFactory(), "thread": thread, "reply": reply,
    }


def _urls(cast):
    thread, forum = cast["thread"], cast["forum"]
    return [
        ("post", reverse("moderation:thread-lock", args=[thread.pk]), {"lock": "1", "reason": "Flame war"}),
        ("post", reverse("moderation:thread-pin", args=[thread.pk]), {"pin": "1"}),
        ("post", reverse("moderation:thread-move", args=[thread.pk]), {"forum": cast["other_forum"].pk}),
        ("get", reverse("moderation:thread-move", args=[thread.pk]), {}),
        ("get", reverse("moderation:forum-hosting", args=[forum.slug]), {}),
        ("post", reverse("moderation:forum-hosting", args=[forum.slug]),
         {"username": cast["member"].username, "action": "block", "reason": "Spam"}),
    ]


def test_visitors_are_sent_to_login(client, cast):
    for method, url, data in _urls(cast):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "login" in response["Location"], url
    assert not ModerationAction.objects.exists()


@pytest.mark.parametrize("who", ["member", "other_host"])
def test_members_and_hosts_of_other_forums_are_refused(client, cast, who):
    client.force_login(cast[who])
    for method, url, data in _urls(cast):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, url
        assert "Only this forum" in response.content.decode()
    thread = Thread.objects.get(pk=cast["thread"].pk)
    assert not (thread.is_locked or thread.is_pinned) and thread.forum == cast["forum"]
    assert not ForumBlock.objects.exists() and not ModerationAction.objects.exists()


def test_staff_only_hide(client, cast):
    reply = cast["reply"]
    url = reverse("moderation:post-hide", args=[reply.thread_id, reply.number])
    client.force_login(cast["host"])
    assert client.post(url, {"hide": "1"}).status_code == 403
    client.force_login(cast["staff"])
    assert client.post(url, {"hide": "1", "reason": "Doxxing"}).status_code == 302
    assert Post.objects.get(pk=reply.pk).is_hidden
    assert ModerationAction.objects.get().reason == "Doxxing"


def test_host_locks_with_a_notice_pins_and_the_log_shows_it(client, cast):
    thread = cast["thread"]
    client.force_login(cast["host"])
    client.post(reverse("moderation:thread-lock", args=[thread.pk]), {"lock": "1", "reason": "Flame war"})
    client.post(reverse("moderation:thread-pin", args=[thread.pk]), {"pin": "1"})

    thread.refresh_from_db()
    assert thread.is_locked and thread.is_pinned
    page = client.get(thread.get_absolute_url()).content.decode()
    assert "Locked by Pethost (host): Flame war" in page
    with pytest.raises(Exception):
        reply_create(author=cast["member"], parent=thread.posts.get(number=0), body="late")
    log = client.get(reverse("moderation:log")).content.decode()
    assert "Locked a thread" in log and "Pinned a thread" in log and "Flame war" in log


def test_host_moves_only_between_forums_they_host(client, cast):
    thread, host = cast["thread"], cast["host"]
    third = ForumFactory(name="Birds")
    client.force_login(host)
    assert client.post(reverse("moderation:thread-move", args=[thread.pk]), {"forum": third.pk}).status_code == 400
    third.hosts.add(host)

    client.post(reverse("moderation:thread-move", args=[thread.pk]), {"forum": third.pk})

    thread.refresh_from_db()
    pets, birds = Forum.objects.get(pk=cast["forum"].pk), Forum.objects.get(pk=third.pk)
    assert thread.forum == birds
    assert (pets.thread_count, pets.post_count) == (0, 0)
    assert (birds.thread_count, birds.post_count) == (1, 2)
    assert birds.last_post_id is not None and pets.last_post_id is None


def test_staff_move_anywhere(client, cast):
    client.force_login(cast["staff"])
    client.post(reverse("moderation:thread-move", args=[cast["thread"].pk]), {"forum": cast["other_forum"].pk})
    assert Thread.objects.get(pk=cast["thread"].pk).forum == cast["other_forum"]


def test_host_blocks_a_member_who_then_cannot_post(client, cast):
    client.force_login(cast["host"])
    url = reverse("moderation:forum-hosting", args=[cast["forum"].slug])
    client.post(url, {"username": cast["member"].username, "action": "block", "reason": "Spam links"})

    client.force_login(cast["member"])
    response = client.get(reverse("forums:thread-create", args=[cast["forum"].slug]))
    assert response.status_code == 403 and "blocked" in response.content.decode()
    about = client.get(reverse("forums:forum-about", args=[cast["forum"].slug])).content.decode()
    assert "Spam links" in about


def test_host_adds_a_host(client, cast):
    client.force_login(cast["host"])
    client.post(reverse("moderation:forum-hosting", args=[cast["forum"].slug]),
                {"username": cast["member"].username, "action": "add_host"})
    assert cast["forum"].hosts.filter(pk=cast["member"].pk).exists()
    assert ModerationAction.objects.get().kind == "add_host"


def test_hosting_page_reports_unknown_members(client, cast):
    client.force_login(cast["host"])
    response = client.post(reverse("moderation:forum-hosting", args=[cast["forum"].slug]),
                           {"username": "nobody-at-all", "action": "block"})
    assert response.status_code == 400 and "No member is called nobody-at-all" in response.content.decode()


def test_host_tools_show_only_for_hosts_and_staff(client, cast):
    url = cast["thread"].get_absolute_url()
    for who, visible in [("member", False), ("other_host", False), ("host", True), ("staff", True)]:
        client.force_login(cast[who])
        assert ("host-tools" in client.get(url).content.decode()) is visible, who


def test_staff_suspension_in_the_admin_is_logged(client, cast):
    staff = cast["staff"]
    User.objects.filter(pk=staff.pk).update(is_superuser=True)
    member = cast["member"]
    client.force_login(staff)
    change = reverse("admin:accounts_user_change", args=[member.pk])
    page = client.get(change)
    form = page.context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({
        "username": member.username, "is_suspended": "on", "suspension_reason": "Harassment",
        "date_joined_0": member.date_joined.strftime("%Y-%m-%d"), "date_joined_1": "00:00:00",
        "thread_view": "op", "layout": "threaded", "highlight": "none", "replies_per_page": "50",
        "time_zone": "UTC", "theme": "system", "jury_available": "on",
    })
    data.pop("last_login", None)
    data.pop("star_until", None)
    data.pop("suspended_until", None)
    data.pop("password", None)
    data.pop("avatar", None)
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = ModerationAction.objects.get()
    assert (entry.kind, entry.member, entry.reason) == ("suspend", member, "Harassment")


# Query counts.


def test_moderation_log_query_count(client, cast, django_assert_num_queries):
    client.force_login(cast["staff"])
    for thread in ThreadFactory.create_batch(3, forum=cast["forum"]):
        for action in ("lock", "pin"):
            client.post(reverse(f"moderation:thread-{action}", args=[thread.pk]), {action: "1"})
    client.logout()
    with django_assert_num_queries(5):  # header 3, count, one page with everything it links
        response = client.get(reverse("moderation:log"))
    assert response.content.decode().count("Locked a thread") == 3


def test_juror_page_query_count(client, cast, django_assert_num_queries):
    MemberFactory.create_batch(10)
    rule = alert_rule_create(slug="r", name="No personal attacks")
    alert = alert_create(alerter=cast["member"], post=cast["reply"], rule=rule, rng=random.Random(4))
    juror = alert.jury.seats.first().juror
    client.force_login(juror)
    # session, member; jury with post, thread, parent and people; any juror late (no:
    # nothing locked); my seat; header 3
    with django_assert_num_queries(8):
        response = client.get(reverse("moderation:jury-detail", args=[alert.jury.pk]))
    assert response.status_code == 200


def test_admin_host_appointments_and_blocks_land_in_the_log(client, cast):
    staff = cast["staff"]
    User.objects.filter(pk=staff.pk).update(is_superuser=True)
    client.force_login(staff)
    forum = cast["forum"]
    change = reverse("admin:forums_forum_change", args=[forum.pk])
    data = {
        "name": forum.name, "slug": forum.slug, "kind": forum.kind, "section": forum.section_id,
        "purpose": forum.purpose, "rules": "", "position": forum.position,
        "hosts": [cast["host"].pk, cast["member"].pk],
    }
    assert client.post(change, data).status_code == 302
    assert ModerationAction.objects.filter(kind="add_host", member=cast["member"], role="staff").exists()

    add_block = reverse("admin:forums_forumblock_add")
    response = client.post(add_block, {"forum": forum.pk, "member": cast["other_host"].pk, "reason": "Trolling"})
    assert response.status_code == 302
    assert ModerationAction.objects.filter(kind="block", member=cast["other_host"], reason="Trolling").exists()
