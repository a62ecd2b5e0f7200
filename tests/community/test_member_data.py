"""Members' data: "Download my data" and deleting one's account (issue 9, part 6)."""

import json
import random

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import member_suspend, member_update
from community.services import PASSWORD_WRONG, member_delete
from conversations.models import Message, Participant
from conversations.services import conversation_create, message_create
from forums.models import (
    ForumRead,
    ForumSubscription,
    IgnoredMember,
    Notification,
    Picture,
    PollOption,
    Post,
    PostRevision,
    Recommendation,
    Thread,
    ThreadSubscription,
    ThreadVisit,
    TrashedForum,
    TrashedThread,
)
from forums.services import (
    forum_mark_read,
    forum_subscription_set,
    forum_trash_set,
    member_ignore_set,
    post_edit,
    recommendation_set,
    reply_create,
    thread_create,
    thread_trash_set,
    thread_visit_record,
)
from forums.polls import PollSpec, poll_vote
from moderation.models import Alert, JurySeat
from moderation.services import alert_create, alert_rule_create, jury_vote
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory
from tests.invariants import assert_counters_equal_rows
from tests.pictures import pending_picture, placed
from tests.world import built_once, fresh

PASSWORD = "correct horse battery staple"
DATA_URL = reverse("members:member-data")
DELETE_URL = reverse("members:member-delete")
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def _build_world():
    """A member with three or more of everything the export lists, among others'
    posts, messages and votes that must not leak into it."""
    member = MemberFactory(username="leaver", display_name="Lea Leaver")
    others = MemberFactory.create_batch(3)
    forum, quiet_forum = ForumFactory(), ForumFactory()

    # Threads the member opened: one others answered, two nobody else did.
    shared = ThreadFactory(forum=forum, author=member, title="Shared thread of the leaver")
    shared_op = shared.posts.get(number=0)
    own_reply = ReplyFactory(parent=shared_op, author=member, body="My own first answer")
    answers = [ReplyFactory(parent=own_reply, author=other, body=f"Answer by {other.username}")
               for other in others]
    solo = [ThreadFactory(forum=forum, author=member, title=f"Solo thread {n}") for n in range(2)]
    ReplyFactory(parent=solo[0].posts.get(number=0), author=member, body="Talking to myself")

    # Replies in others' threads, one edited twice.
    their_threads = [ThreadFactory(forum=forum, author=other) for other in others]
    replies = [ReplyFactory(parent=t.posts.get(number=0), author=member, body=f"Reply {n}")
               for n, t in enumerate(their_threads)]
    post_edit(editor=member, post=replies[0], body="Reply 0, second version")
    post_edit(editor=member, post=replies[0], body="Reply 0, third version")

    # Private messages: two conversations with the member, one without.
    for n, other in enumerate(others[:2]):
        conversation = conversation_create(sender=member, recipient=other,
                                           subject=f"Hello {n}", body=f"Secret note {n} from me")
        message_create(author=other, conversation=conversation, body=f"Secret answer {n} to me")
    conversation_create(sender=others[2], recipient=member, subject="From the third",
                        body="Third writes to the leaver")
    conversation_create(sender=others[0], recipient=others[1], subject="Not yours",
                        body="Between the two of us only")

    # Recommendations, both ways.
    for other, thread in zip(others, their_threads):
        recommendation_set(member=member, post=thread.posts.get(number=0), recommend=True)
        recommendation_set(member=other, post=own_reply, recommend=True)

    # Alerts the member raised, and juries the member sat on and voted in.
    rules = [alert_rule_create(slug=f"rule-{n}", name=f"Rule {n}") for n in range(3)]
    strangers = MemberFactory.create_batch(3)
    for n, rule in enumerate(rules):
        alert_create(alerter=member, post=answers[n], rule=rule, comment=f"My alert {n}",
                     rng=random.Random(n))
    jury_threads = [ThreadFactory(forum=quiet_forum, author=stranger) for stranger in strangers]
    for n, thread in enumerate(jury_threads):
        alert = alert_create(alerter=others[n], post=thread.posts.get(number=0), rule=rules[n],
                             rng=random.Random(n))
        for seat in alert.jury.seats.select_related("juror"):
            mine = seat.juror_id == member.pk
            jury_vote(juror=seat.juror, jury=alert.jury, answer=JurySeat.Answer.CLEAR_KEEP,
                      comment=f"My vote {n}" if mine else f"Vote of {seat.juror.username}",
                      rng=random.Random(n))
            if not alert.jury.seats.filter(answer="").exists():
                break

    # Votes in three polls of others, two options each in a multiple-choice poll; others vote too.
    for n, other in enumerate(others):
        poll_thread = thread_create(
            forum=forum, author=other, title=f"Poll {n}", body="Vote!",
            poll=PollSpec(question=f"Question {n}?", options=("One", "Two", "Three"), max_choices=2),
        )
        options = list(PollOption.objects.filter(poll=poll_thread.pk).order_by("position"))
        poll_vote(member=member, thread=poll_thread, options=options[:2])
        poll_vote(member=other, thread=poll_thread, options=options[2:])

    # Subscriptions, ignores, trash, read markers.
    for thread in their_threads:
        thread_visit_record(member=member, thread=thread)
        thread_trash_set(member=member, thread=thread, trash=True)
    forum_subscription_set(member=member, forum=forum, follow=True)
    forum_subscription_set(member=member, forum=quiet_forum, follow=True)
    forum_trash_set(member=member, forum=quiet_forum, trash=True)
    forum_mark_read(member=member, forum=forum)
    for other in others:
        member_ignore_set(member=member, other=other, ignore=True)
    member_ignore_set(member=others[0], other=member, ignore=True)
    member_update(member=member, hometown="Springfield", slogan="Leaving soon")
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    EmailAddress.objects.create(user=others[0], email=others[0].email, verified=True, primary=True)
    Authenticator.objects.create(user=member, type=Authenticator.Type.TOTP,
                                 data={"secret": TOTP_SECRET})
    Authenticator.objects.create(user=member, type=Authenticator.Type.RECOVERY_CODES,
                                 data={"seed": "recovery-seed-never-exported"})
    member.refresh_from_db()
    return {
        "member": member, "others": others, "forum": forum, "quiet_forum": quiet_forum,
        "shared": shared, "own_reply": own_reply, "answers": answers, "solo": solo,
        "their_threads": their_threads, "replies": replies,
    }


@pytest.fixture(scope="module")
def _world_built(django_db_setup, django_db_blocker):
    # A jury size large enough that every eligible member sits on every jury.
    with built_once(django_db_blocker, _build_world, FORUMS_JURY_SIZE=50) as built:
        yield built


@pytest.fixture
def world(_world_built, db, settings):
    settings.FORUMS_JURY_SIZE = 50
    return fresh(_world_built)


def _download(client) -> tuple:
    response = client.get(DATA_URL)
    return response, json.loads(response.content)


# Download my data.


def test_member_data_requires_login(client, db):
    response = client.get(DATA_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_member_data_is_a_json_attachment_without_caching(client, world):
    client.force_login(world["member"])
    response, data = _download(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="grassroots-my-data-')
    assert "no-store" in response["Cache-Control"]
    assert data["format"] == "grassroots-member-data"
    assert client.post(DATA_URL).status_code == 405


def test_member_data_holds_profile_posts_with_history_and_threads(client, world):
    member = world["member"]
    client.force_login(member)
    _response, data = _download(client)
    assert data["profile"]["username"] == "leaver"
    assert data["profile"]["email"] == member.email
    assert data["profile"]["hometown"] == "Springfield"
    assert data["preferences"]["layout"] == member.layout
    assert data["email_addresses"] == [{"email": member.email, "verified": True, "primary": True}]
    assert data["two_factor"] == ["recovery_codes", "totp"]
    assert sorted(t["title"] for t in data["threads"]) == [
        "Shared thread of the leaver", "Solo thread 0", "Solo thread 1"
    ]
    bodies = {post["body"] for post in data["posts"]}
    assert {"My own first answer", "Talking to myself", "Reply 1", "Reply 2"} <= bodies
    assert len(data["posts"]) == Post.objects.filter(author=member).count() == 8
    edited = next(post for post in data["posts"] if post["id"] == world["replies"][0].pk)
    assert edited["body"] == "Reply 0, third version"
    assert [r["body"] for r in edited["revisions"]] == ["Reply 0", "Reply 0, second version"]
    # Nobody else's posts.
    assert not any(body.startswith("Answer by") for body in bodies)


def test_member_data_holds_messages_of_own_conversations_only(client, world):
    client.force_login(world["member"])
    _response, data = _download(client)
    subjects = sorted(c["subject"] for c in data["conversations"])
    assert subjects == ["From the third", "Hello 0", "Hello 1"]
    bodies = [m["body"] for c in data["conversations"] for m in c["messages"]]
    assert "Secret note 0 from me" in bodies and "Secret answer 0 to me" in bodies
    assert "Third writes to the leaver" in bodies
    assert "Between the two of us only" not in json.dumps(data)
    hello = next(c for c in data["conversations"] if c["subject"] == "Hello 0")
    assert [m["sent_by_me"] for m in hello["messages"]] == [True, False]


def test_member_data_holds_own_votes_alerts_and_lists_not_others(client, world):
    member = world["member"]
    client.force_login(member)
    _response, data = _download(client)
    assert len(data["recommendations"]) == 3
    assert sorted(a["comment"] for a in data["alerts"]) == ["My alert 0", "My alert 1", "My alert 2"]
    assert sorted(v["comment"] for v in data["jury_votes"]) == ["My vote 0", "My vote 1", "My vote 2"]
    assert all(v["answer"] == JurySeat.Answer.CLEAR_KEEP for v in data["jury_votes"])
    text = json.dumps(data)
    assert "Vote of " not in text  # other jurors' comments
    assert len(data["thread_subscriptions"]) == 3  # the threads the member opened
    assert len(data["forum_subscriptions"]) == 2
    assert len(data["trashed_threads"]) == 3
    assert len(data["trashed_forums"]) == 1
    assert sorted(i["username"] for i in data["ignored_members"]) == sorted(
        other.username for other in world["others"]
    )
    # Others' email addresses never appear.
    assert world["others"][0].email not in text


def test_member_data_leaves_out_secrets(client, world):
    member = world["member"]
    client.force_login(member)
    response = client.get(DATA_URL)
    text = response.content.decode()
    assert member.password not in text
    assert "password" not in json.loads(text)["profile"]
    assert TOTP_SECRET not in text
    assert "recovery-seed-never-exported" not in text
    assert client.session.session_key not in text


def test_member_data_query_count_does_not_grow_with_rows(client, world, django_assert_num_queries):
    client.force_login(world["member"])
    member = world["member"]
    for n in range(3):
        pending_picture(member, f"{n}.png")
    reply_create(author=member, parent=world["their_threads"][0].posts.get(number=0),
                 body=placed(Picture.objects.filter(owner=member).first()))
    # Session and member (2); email addresses, second factors, jury blacklist (3);
    # threads, posts, revisions, pictures (4); conversations, their participants,
    # messages (3); poll votes (1); recommendations, alerts, jury votes, appeals (4); thread and forum
    # subscriptions, ignores, trashed threads and forums, notifications (6).
    with django_assert_num_queries(23):
        response = client.get(DATA_URL)
    assert response.status_code == 200
    assert len(response.json()["pictures"]) == 3
    # One more of each changes nothing.
    member, other = world["member"], world["others"][0]
    ReplyFactory(parent=world["their_threads"][1].posts.get(number=0), author=member)
    conversation_create(sender=member, recipient=world["others"][1], subject="One more",
                        body="And another")
    recommendation_set(member=member, post=world["answers"][2], recommend=True)
    member_ignore_set(member=other, other=member, ignore=False)
    pending_picture(member, "one-more.png")
    with django_assert_num_queries(23):
        client.get(DATA_URL)


def test_settings_page_links_download_and_delete(client, world):
    client.force_login(world["member"])
    text = client.get(reverse("members:settings")).content.decode()
    assert DATA_URL in text and DELETE_URL in text


# Deleting an account: the permission ladder and the password.


def test_delete_page_sends_visitors_to_login(client, db):
    for response in (client.get(DELETE_URL), client.post(DELETE_URL, {"password": PASSWORD})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_delete_page_warns_what_happens(client, world):
    client.force_login(world["member"])
    text = client.get(DELETE_URL).content.decode()
    assert "This cannot be undone." in text
    assert "deleted member" in text
    assert 'name="password"' in text


def test_delete_with_wrong_password_changes_nothing(client, world):
    member = world["member"]
    client.force_login(member)
    response = client.post(DELETE_URL, {"password": "not my password"})
    assert response.status_code == 400
    assert PASSWORD_WRONG in response.content.decode()
    member.refresh_from_db()
    assert member.is_active and member.deleted_at is None and member.username == "leaver"
    assert EmailAddress.objects.filter(user=member).exists()
    assert client.get(reverse("members:settings")).status_code == 200  # still logged in


def test_delete_password_guesses_are_rate_limited(client, world, settings):
    settings.FORUMS_RATE_LIMITS = {"account_delete": "3/15m"}
    client.force_login(world["member"])
    for _guess in range(3):
        assert client.post(DELETE_URL, {"password": "guess"}).status_code == 400
    response = client.post(DELETE_URL, {"password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert User.objects.get(pk=world["member"].pk).is_active


def test_delete_without_password_is_a_form_error(client, world):
    client.force_login(world["member"])
    response = client.post(DELETE_URL, {})
    assert response.status_code == 400
    assert User.objects.get(pk=world["member"].pk).is_active


def test_delete_requires_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["member"])
    response = client.post(DELETE_URL, {"password": PASSWORD})
    assert response.status_code == 403
    assert User.objects.get(pk=world["member"].pk).is_active


def test_members_cannot_delete_someone_else(client, world):
    """The page only ever deletes the logged-in member: another member's password,
    or their id in the form, does nothing to them."""
    member, other = world["member"], world["others"][0]
    client.force_login(other)
    response = client.post(DELETE_URL, {"password": PASSWORD, "username": member.username,
                                        "member": member.pk, "id": member.pk})
    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).is_active
    assert User.objects.get(pk=other.pk).deleted_at is not None


def test_member_delete_service_checks_the_password(world):
    with pytest.raises(ValidationError) as refusal:
        member_delete(member=world["member"], password="guess")
    assert refusal.value.message_dict == {"password": [PASSWORD_WRONG]}
    assert User.objects.get(pk=world["member"].pk).is_active


def test_member_delete_service_refuses_twice(world):
    member_delete(member=world["member"], password=PASSWORD)
    with pytest.raises(PermissionDenied):
        member_delete(member=world["member"], password=PASSWORD)


# What deleting does.


def _delete(client, member):
    client.force_login(member)
    response = client.post(DELETE_URL, {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("forums:home")
    return response


def test_delete_scrubs_the_account_and_logs_out_everywhere(client, world):
    member = world["member"]
    elsewhere = Client()
    elsewhere.force_login(member)
    assert Session.objects.count() == 1
    old_url = member.get_absolute_url()
    old_avatar_url = member.avatar_url

    _delete(client, member)

    member.refresh_from_db()
    assert member.deleted_at is not None and not member.is_active
    assert member.username.startswith("deleted-") and member.username != "leaver"
    assert member.email == member.display_name == member.hometown == member.slogan == ""
    assert not member.has_usable_password()
    assert member.public_name == "deleted member"
    assert member.avatar_url == old_avatar_url  # the default picture
    # Logged out here and on the other device.
    assert Session.objects.count() == 0
    assert client.get(reverse("members:settings")).status_code == 302
    assert elsewhere.get(reverse("members:settings")).status_code == 302
    # Cannot log in again.
    assert not Client().login(username="leaver", password=PASSWORD)
    # The profile is gone, and the old name is free.
    assert client.get(old_url).status_code == 404
    MemberFactory(username="leaver")
    # Secrets and personal lists are gone.
    assert not EmailAddress.objects.filter(user=member).exists()
    assert not Authenticator.objects.filter(user=member).exists()
    for model in (ThreadSubscription, ForumSubscription, ForumRead, ThreadVisit,
                  TrashedThread, TrashedForum):
        assert not model.objects.filter(member=member).exists(), model
    assert not Notification.objects.filter(recipient=member).exists()
    assert not IgnoredMember.objects.filter(member=member).exists()
    assert not IgnoredMember.objects.filter(ignored=member).exists()
    # Others keep theirs.
    assert EmailAddress.objects.filter(user=world["others"][0]).exists()


def test_keep_mode_leaves_posts_under_deleted_member(client, world, settings):
    settings.FORUMS_DELETED_MEMBER_POSTS = "keep"
    member = world["member"]
    posts_before = Post.objects.count()
    _delete(client, member)

    assert Post.objects.count() == posts_before
    assert Post.objects.filter(author=member, is_deleted=False).count() == 8
    assert_counters_equal_rows()
    # Votes, alerts and messages stay, so counts and verdicts do not change.
    assert Recommendation.objects.filter(member=member).count() == 3
    assert Alert.objects.filter(alerter=member).count() == 3
    assert Message.objects.filter(author=member).count() == 2
    assert Participant.objects.filter(member=member).count() == 3

    thread = world["shared"]
    text = client.get(thread.get_view_all_url()).content.decode()
    assert "My own first answer" in text
    assert "deleted member" in text
    assert "Lea Leaver" not in text
    assert member.get_absolute_url() not in text  # no link to a profile that is gone
    # A deleted member's posts offer no "Ignore", others' still do.
    reader = world["others"][0]
    client.force_login(reader)
    text = client.get(thread.get_view_all_url()).content.decode()
    assert "Ignore deleted member" not in text
    assert f"Ignore {world['others'][1].public_name}" in text
    client.logout()
    # The reply index under the opening post names them too.
    index = client.get(thread.get_absolute_url()).content.decode()
    # (the opening post and the reply in the index)
    assert index.count("deleted member") == 2 and "Lea Leaver" not in index
    forum_page = client.get(world["forum"].get_absolute_url()).content.decode()
    assert "deleted member" in forum_page and "Lea Leaver" not in forum_page


def test_remove_mode_blanks_posts_and_drops_unanswered_threads(client, world, settings):
    settings.FORUMS_DELETED_MEMBER_POSTS = "remove"
    member = world["member"]
    solo_ids = [thread.pk for thread in world["solo"]]
    # Others' marks on an unanswered thread go with it: a recommendation, an alert
    # and the jury it seated.
    solo_post = world["solo"][0].posts.get(number=0)
    recommendation_set(member=world["others"][0], post=solo_post, recommend=True)
    alert_create(alerter=world["others"][1], post=solo_post,
                 rule=alert_rule_create(slug="solo-rule", name="Solo rule"), rng=random.Random(7))
    _delete(client, member)

    # The threads nobody else answered are gone, with their posts.
    assert not Thread.objects.filter(pk__in=solo_ids).exists()
    assert not Alert.objects.filter(post=solo_post.pk).exists()
    assert not Recommendation.objects.filter(post=solo_post.pk).exists()
    # Every other post of theirs is a blank placeholder, still in its tree.
    left = Post.objects.filter(author=member)
    assert left.count() == 5  # shared opening post, own reply, three replies
    assert not left.filter(is_deleted=False).exists()
    assert set(left.values_list("body", "body_html", "body_text").distinct()) == {("", "", "")}
    assert not PostRevision.objects.filter(post__author=member).exists()
    for answer in world["answers"]:
        answer.refresh_from_db()
        assert answer.parent_id == world["own_reply"].pk
    assert_counters_equal_rows()
    world["shared"].refresh_from_db()
    assert world["shared"].is_locked

    text = client.get(world["shared"].get_view_all_url()).content.decode()
    assert "My own first answer" not in text
    assert "Answer by" in text  # others' replies stay
    assert "deleted member" in text
    search = client.get(reverse("forums:search"), {"q": "Reply"}).content.decode()
    assert "Reply 1" not in search


def test_thread_and_forum_lists_name_the_deleted_member(client, world, settings):
    settings.FORUMS_DELETED_MEMBER_POSTS = "keep"
    member = world["member"]
    _delete(client, member)
    for url in (reverse("forums:latest"), world["forum"].get_absolute_url(),
                reverse("forums:forum-index")):
        text = client.get(url).content.decode()
        assert "Lea Leaver" not in text, url
        assert member.get_absolute_url() not in text, url


def test_messages_show_deleted_member_to_the_other_side(client, world):
    member, other = world["member"], world["others"][0]
    conversation = Participant.objects.get(member=other, conversation__subject="Hello 0").conversation
    old_url = member.get_absolute_url()
    _delete(client, member)
    client.force_login(other)
    text = client.get(conversation.get_absolute_url()).content.decode()
    assert "Secret note 0 from me" in text
    assert "deleted member" in text and "Lea Leaver" not in text
    assert old_url not in text
    inbox = client.get(reverse("conversations:inbox")).content.decode()
    assert "deleted member" in inbox and old_url not in inbox


def test_delete_drops_visitor_pages_that_named_the_member(world, settings, django_capture_on_commit_callbacks):
    settings.FORUMS_PAGE_CACHE_SECONDS = 60
    url = world["shared"].get_view_all_url()
    name = world["member"].public_name
    assert name in Client().get(url).content.decode()
    assert Client().get(url)["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        member_delete(member=world["member"], password=PASSWORD)
    page = Client().get(url)
    assert page["X-Page-Cache"] == "miss" and name not in page.content.decode()


def test_suspended_members_may_still_leave(client, world):
    member_suspend(member=world["member"], reason="Cooling off")
    _delete(client, world["member"])
    assert User.objects.get(pk=world["member"].pk).deleted_at is not None
