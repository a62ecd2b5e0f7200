"""Posting through the pages: new threads, replies, quotes, previews, edits, deletes."""

import html
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import member_suspend
from forums.models import ForumBlock, ForumSubscription, Notification, Post, Thread
from forums.permissions import THREAD_LOCKED
from forums.services import (
    BODY_REQUIRED,
    post_edit,
    reply_create,
    thread_subscription_set,
)
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory


def _text(response) -> str:
    return response.content.decode()


def _reply_url(post) -> str:
    return reverse("forums:reply-create", args=[post.thread_id, post.number])


def _new_thread_url(forum) -> str:
    return reverse("forums:thread-create", args=[forum.slug])


# Permission ladder: visitors go to login, suspended or blocked members are refused
# with the reason, authors (or staff) get through.


@pytest.mark.parametrize("name", ["reply-create", "post-edit", "post-delete"])
def test_write_pages_send_visitors_to_login(client, opening_post, name):
    url = reverse(f"forums:{name}", args=[opening_post.thread_id, opening_post.number])
    for response in (client.get(url), client.post(url, {"body": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert Post.objects.count() == 1


def test_new_thread_page_sends_visitors_to_login(client, forum):
    response = client.post(_new_thread_url(forum), {"title": "t", "body": "b", "post": "1"})
    assert response.status_code == 302 and not Thread.objects.exists()


def test_suspended_member_is_refused_with_reason(member_client, member, opening_post):
    member_suspend(member=member, reason="Name-calling", until=timezone.now() + timedelta(days=1))
    response = member_client.post(_reply_url(opening_post), {"body": "hello", "post": "1"})
    assert response.status_code == 403
    assert "Name-calling" in _text(response) and "suspended until" in _text(response)
    assert Post.objects.count() == 1


def test_member_blocked_from_a_forum_cannot_post_there(member_client, member, forum):
    ForumBlock.objects.create(forum=forum, member=member)
    response = member_client.get(_new_thread_url(forum))
    assert response.status_code == 403
    assert f"You are blocked from posting in {forum.name}" in _text(response)


def test_locked_thread_refuses_replies(member_client, thread, opening_post):
    Thread.objects.filter(pk=thread.pk).update(is_locked=True)
    response = member_client.post(_reply_url(opening_post), {"body": "late", "post": "1"})
    assert response.status_code == 403 and THREAD_LOCKED in _text(response)


def test_only_the_author_edits_and_deletes(client, reply, member):
    client.force_login(member)  # the thread's author, not the reply's
    for name in ["post-edit", "post-delete"]:
        response = client.post(
            reverse(f"forums:{name}", args=[reply.thread_id, reply.number]), {"subject": "x", "body": "mine now"}
        )
        assert response.status_code == 403
    reply.refresh_from_db()
    assert not reply.is_deleted and reply.body != "mine now"


def test_staff_edit_any_post_any_time(client, reply, db):
    staff = User.objects.create_user("moderator", password="x" * 12, is_staff=True)
    Post.objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(days=30))
    client.force_login(staff)
    response = client.post(
        reverse("forums:post-edit", args=[reply.thread_id, reply.number]),
        {"subject": "Edited by staff", "body": "Moderated text", "post": "1"},
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.body == "Moderated text"


def test_posting_requires_csrf(member, opening_post):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(member)
    response = csrf_client.post(_reply_url(opening_post), {"body": "forged", "post": "1"})
    assert response.status_code == 403 and Post.objects.count() == 1


# Threads and replies.


def test_post_new_thread(member_client, member, forum):
    page = _text(member_client.get(forum.get_absolute_url()))
    assert "Post new thread" in page

    response = member_client.post(
        _new_thread_url(forum), {"title": "Town hall on Tuesday", "body": "Who is *going*?", "post": "1"}
    )

    thread = Thread.objects.get()
    assert response["Location"] == thread.get_absolute_url()
    assert "<em>going</em>" in _text(member_client.get(thread.get_absolute_url()))
    assert thread.subscriptions.filter(member=member).exists()  # authors follow their threads


def test_reply_to_a_reply_nests_and_lands_on_its_page(member_client, reply, settings):
    response = member_client.post(
        _reply_url(reply), {"subject": "Answering you", "body": "Nested answer", "post": "1"}
    )
    nested = Post.objects.get(body="Nested answer")
    assert nested.parent == reply and nested.depth == 2
    landing = member_client.get(response["Location"])
    assert landing.status_code == 302
    assert landing["Location"].endswith(f"#post-{nested.number}")
    assert "Nested answer" in _text(member_client.get(landing["Location"]))


def test_jump_to_a_reply_on_a_later_page(client, member, opening_post, settings):
    settings.FORUMS_REPLIES_PER_PAGE = 5
    replies = [ReplyFactory(parent=opening_post) for _ in range(12)]
    response = client.get(replies[-1].get_absolute_url())
    assert response["Location"].endswith(f"?page=3#post-{replies[-1].number}")


def test_reply_subject_defaults_to_first_words(member_client, opening_post):
    member_client.post(_reply_url(opening_post), {"subject": "", "body": "Totally agree with this analysis", "post": "1"})
    assert Post.objects.get(number=1).subject == "Totally agree with this analysis"


def test_quote_fills_the_reply_with_the_quoted_text(member_client, reply):
    page = _text(member_client.get(_reply_url(reply), {"quote": "1"}))
    first_line = reply.body.splitlines()[0]
    assert f"&gt; {first_line}" in page
    assert f"{reply.author.public_name} wrote:" in page


def test_quoting_reply_takes_its_subject_from_the_repliers_words(member_client, reply):
    quoted = member_client.get(_reply_url(reply), {"quote": "1"}).context["form"]["body"].value()
    member_client.post(_reply_url(reply), {"subject": "", "body": quoted + "Not in my town", "post": "1"})
    bare = member_client.post(_reply_url(reply), {"subject": "", "body": quoted, "post": "1"})
    assert bare.status_code == 302
    subjects = list(Post.objects.filter(parent=reply).order_by("number").values_list("subject", flat=True))
    assert subjects == ["Not in my town", f"Re: {reply.subject}"]


def test_preview_shows_rendered_text_and_saves_nothing(member_client, opening_post):
    response = member_client.post(
        _reply_url(opening_post), {"body": "**bold** <script>alert(1)</script>", "preview": "1"}
    )
    page = _text(response)
    assert response.status_code == 200
    assert "<strong>bold</strong> &lt;script&gt;" in page
    assert "<script>alert(1)" not in page
    assert Post.objects.count() == 1


def test_preview_warns_about_long_excerpts(member_client, opening_post):
    quote = "\n>\n".join(f"> Paragraph {n} of the article." for n in range(5))
    page = _text(member_client.post(_reply_url(opening_post), {"body": quote, "preview": "1"}))
    assert "more than 4 paragraphs" in page


@pytest.mark.parametrize("data, field, message", [
    ({"title": "", "body": "x"}, "title", "This field is required"),
    ({"title": "x" * 151, "body": "x"}, "title", "at most 150 characters"),
    ({"title": "ok", "body": ""}, "body", "This field is required"),
    ({"title": "ok", "body": "x" * 50_001}, "body", "at most 50000 characters"),
    ({"title": "   ", "body": "   "}, "title", "This field is required"),
])
def test_bad_thread_input_is_shown_next_to_the_field(member_client, forum, data, field, message):
    response = member_client.post(_new_thread_url(forum), {**data, "post": "1"})
    assert response.status_code == 400
    page = _text(response)
    assert message in page
    assert f'id="id_{field}_error"' in page or f'id_{field}' in page
    assert not Thread.objects.exists()


def test_source_link_rule(member_client, db):
    news = ForumFactory(name="Latest Breaking News", requires_source_link=True)
    refused = member_client.post(_new_thread_url(news), {"title": "Big news", "body": "Trust me", "post": "1"})
    assert refused.status_code == 400 and "needs a link to the source" in _text(refused)

    accepted = member_client.post(
        _new_thread_url(news), {"title": "Big news", "body": "See https://example.org/story", "post": "1"}
    )
    assert accepted.status_code == 302 and Thread.objects.count() == 1


def test_forum_rules_are_shown_on_the_form(member_client, db):
    forum = ForumFactory(rules="Excerpts: at most 4 paragraphs.\nLink your source.")
    page = _text(member_client.get(_new_thread_url(forum)))
    assert "Excerpts: at most 4 paragraphs." in page and "Link your source." in page


# New members: flood and link limits.


@pytest.fixture
def newcomer(db, settings):
    settings.FORUMS_NEW_MEMBER_POSTS = 10
    return MemberFactory(joined_at=timezone.now() - timedelta(hours=2))


def test_new_member_waits_between_posts(client, newcomer, opening_post):
    client.force_login(newcomer)
    assert client.post(_reply_url(opening_post), {"body": "first", "post": "1"}).status_code == 302

    too_soon = client.post(_reply_url(opening_post), {"body": "second", "post": "1"})

    assert too_soon.status_code == 429
    assert "New members can post once every 30 seconds" in _text(too_soon)
    User.objects.filter(pk=newcomer.pk).update(last_posted_at=timezone.now() - timedelta(seconds=31))
    assert client.post(_reply_url(opening_post), {"body": "second", "post": "1"}).status_code == 302


def test_new_member_pause_says_how_long_and_when_it_ends(client, newcomer, opening_post, settings):
    settings.FORUMS_NEW_MEMBER_HOURS = 48
    client.force_login(newcomer)
    client.post(_reply_url(opening_post), {"body": "first", "post": "1"})

    too_soon = client.post(_reply_url(opening_post), {"body": "second", "post": "1"})

    assert too_soon.status_code == 429
    page = html.unescape(_text(too_soon))
    wait = re.search(r"Please wait (\d+) seconds?\.", page)
    assert wait and 1 <= int(wait.group(1)) <= 30
    assert too_soon["Retry-After"] == wait.group(1)
    assert "This limit ends once you have 10 posts and have been a member for 48 hours." in page
    assert "second" in page  # still in the form


def test_new_member_hours_come_from_the_setting(newcomer, settings):
    from accounts.standing import is_new_member

    settings.FORUMS_NEW_MEMBER_POSTS = 0  # only the time since joining counts here
    settings.FORUMS_NEW_MEMBER_HOURS = 3
    assert is_new_member(newcomer)  # joined 2 hours ago
    settings.FORUMS_NEW_MEMBER_HOURS = 1
    assert not is_new_member(newcomer)


def test_new_member_link_limit(client, newcomer, opening_post):
    client.force_login(newcomer)
    body = "https://a.org/1 https://b.org/2 and [three](https://c.org/3)"
    response = client.post(_reply_url(opening_post), {"body": body, "post": "1"})
    assert response.status_code == 400 and "at most 2 links" in _text(response)


def test_established_member_has_no_flood_limit(member_client, opening_post):
    for n in range(3):
        assert member_client.post(_reply_url(opening_post), {"body": f"r{n}", "post": "1"}).status_code == 302


# Edits and deletes.


def test_edit_keeps_history(member_client, member, opening_post, thread):
    url = reverse("forums:post-edit", args=[thread.pk, 0])
    original = opening_post.body
    member_client.post(url, {"subject": "A better title", "body": "Second version", "post": "1"})

    thread.refresh_from_db()
    assert thread.title == "A better title" and thread.slug == "a-better-title"
    page = _text(member_client.get(thread.get_absolute_url()))
    assert "Second version" in page and "Last edited" in page and "Edit history (1)" in page
    history = _text(member_client.get(reverse("forums:post-history", args=[thread.pk, 0])))
    assert original.split()[0] in history and "Second version" in history


def test_edit_window_closes_for_authors(member_client, opening_post, settings):
    Post.objects.filter(pk=opening_post.pk).update(created_at=timezone.now() - timedelta(minutes=61))
    response = member_client.get(reverse("forums:post-edit", args=[opening_post.thread_id, 0]))
    assert response.status_code == 403 and "60 minutes" in _text(response)


def test_edit_rejects_empty_body(member, opening_post):
    with pytest.raises(Exception) as refusal:
        post_edit(editor=member, post=opening_post, body="  ")
    assert BODY_REQUIRED in str(refusal.value)


def test_delete_reply_leaves_a_placeholder(client, reply, other_member, thread):
    client.force_login(other_member)
    url = reverse("forums:post-delete", args=[reply.thread_id, reply.number])
    assert "Delete this post?" in _text(client.get(url))

    client.post(url)

    page = _text(client.get(thread.get_view_all_url()))
    assert "This post was deleted by its author." in page and reply.body not in page
    assert f'id="post-{reply.number}"' in page
    thread.refresh_from_db()
    assert thread.reply_count == 1 and not thread.is_locked


def test_deleting_the_opening_post_locks_the_thread(member_client, thread):
    member_client.post(reverse("forums:post-delete", args=[thread.pk, 0]))
    thread.refresh_from_db()
    assert thread.is_locked
    assert "This thread is locked" in _text(member_client.get(thread.get_absolute_url()))


# Oversized bodies.


def test_request_body_over_one_megabyte_is_refused_before_parsing(member_client, opening_post, settings):
    # The reply form takes pictures, so its limit is their setting (33 MB by default).
    settings.FORUMS_MAX_PICTURES_REQUEST_BYTES = 1024 * 1024
    response = member_client.post(
        _reply_url(opening_post), {"body": "x" * (1024 * 1024 + 10), "post": "1"}
    )
    assert response.status_code == 413
    assert "larger than 1 MB" in _text(response)
    assert Post.objects.count() == 1


def test_oversized_reply_answers_413_with_the_form_and_the_reason(member_client, opening_post, settings):
    settings.FORUMS_MAX_PICTURES_REQUEST_BYTES = 1024 * 1024
    response = member_client.post(
        _reply_url(opening_post), {"body": "x" * (1024 * 1024 + 10), "post": "1"}
    )
    page = html.unescape(_text(response))
    assert response.status_code == 413
    assert "Connection" not in response  # hop-by-hop: WSGI servers refuse it
    assert '<textarea name="body"' in page and 'action=""' not in page  # the reply form
    assert "What you sent is larger than 1 MB, so it was not saved." in page
    assert Post.objects.count() == 1
    # The notice was for that page only.
    assert "larger than 1 MB" not in _text(member_client.get(_reply_url(opening_post)))


def test_oversized_post_to_an_action_without_a_form_gets_the_plain_413_page(member_client, reply):
    url = reverse("forums:post-recommend", args=[reply.thread_id, reply.number])
    response = member_client.post(url, {"recommend": "1", "padding": "x" * (1024 * 1024)})
    assert response.status_code == 413 and "Connection" not in response
    assert "larger than 1 MB" in _text(response)
    assert not reply.recommendations.exists()
    # No notice is left over for the next page either.
    assert "larger than 1 MB" not in _text(member_client.get(reply.thread.get_absolute_url()))


# Subscriptions and notifications.


def test_notifications_for_reply_follow_and_mention(client, member, other_member, opening_post, thread, django_capture_on_commit_callbacks):
    follower, mentioned = MemberFactory(), MemberFactory(username="rosa")
    thread_subscription_set(member=follower, thread=thread, follow=True)

    with django_capture_on_commit_callbacks(execute=True):
        reply_create(author=other_member, parent=opening_post, body="Hello @Rosa and all")

    kinds = dict(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == {member.username: "reply", follower.username: "thread", "rosa": "mention"}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [member.email, follower.email, mentioned.email]
    )
    client.force_login(member)
    page = _text(client.get(reverse("forums:home")))
    assert 'class="badge badge-count">1' in page
    inbox = _text(client.get(reverse("forums:notification-list")))
    assert "replied to your post" in inbox
    client.post(reverse("forums:notification-list"))
    member.refresh_from_db()
    assert member.unread_notification_count == 0


def test_no_email_for_members_who_opt_out_or_when_posting_fails(member, other_member, opening_post, django_capture_on_commit_callbacks):
    User.objects.filter(pk=member.pk).update(email_notifications=False)
    with django_capture_on_commit_callbacks(execute=True):
        reply_create(author=other_member, parent=opening_post, body="hi")
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=member).count() == 1


def test_forum_followers_hear_of_new_threads(member_client, member, forum, other_member, django_capture_on_commit_callbacks):
    member_client.post(reverse("forums:forum-follow", args=[forum.slug]), {"follow": "1"})
    from forums.services import thread_create

    with django_capture_on_commit_callbacks(execute=True):
        thread_create(forum=forum, author=other_member, title="Fresh", body="News")

    assert Notification.objects.get(recipient=member).kind == "forum"


@pytest.mark.parametrize("with_threads", [True, False])
def test_a_forums_page_shows_whether_the_member_follows_it(member_client, member, other_member, with_threads):
    forum = ForumFactory()
    if with_threads:
        ThreadFactory.create_batch(3, forum=forum)
    url = reverse("forums:forum-follow", args=[forum.slug])
    follow_form = f'action="{url}"'

    def button() -> str:
        page = _text(member_client.get(forum.get_absolute_url()))
        form = page[page.index(follow_form):]
        return form[:form.index("</form>")]

    assert ">Follow<" in button()
    member_client.post(url, {"follow": "1"})
    assert ">Unfollow<" in button()
    # Another member's follow is theirs.
    ForumSubscription.objects.filter(member=member).delete()
    ForumSubscription.objects.create(member=other_member, forum=forum)
    assert ">Follow<" in button()


def test_follow_and_unfollow_a_thread(member_client, other_member, thread, client):
    client.force_login(other_member)
    url = reverse("forums:thread-follow", args=[thread.pk])
    client.post(url, {"follow": "1"})
    assert thread.subscriptions.filter(member=other_member).exists()
    assert "Unfollow" in _text(client.get(thread.get_absolute_url()))
    client.post(url, {"follow": "0"})
    assert not thread.subscriptions.filter(member=other_member).exists()
    assert client.get(url).status_code == 405


def test_rerender_posts_updates_stored_html(opening_post, capsys):
    Post.objects.filter(pk=opening_post.pk).update(body_html="<p>stale</p>")
    call_command("rerender_posts")
    opening_post.refresh_from_db()
    assert opening_post.body_html != "<p>stale</p>"
    assert "Re-rendered 1 posts" in capsys.readouterr().out


# Query counts of the writing pages.


def test_reply_form_query_count(member_client, reply, django_assert_num_queries):
    # session, member, header 3, sponsor, post, block check (the hidden-posts
    # restriction is read from the member's row: accounts.standing), the member's
    # pictures not placed yet
    with django_assert_num_queries(9):
        response = member_client.get(_reply_url(reply))
    assert response.status_code == 200


def test_notifications_query_count(member, opening_post, client, django_assert_num_queries):
    for author in MemberFactory.create_batch(3):
        parent = ReplyFactory(parent=opening_post, author=author)
        ReplyFactory(parent=parent, author=MemberFactory())
    client.force_login(member)
    with django_assert_num_queries(7):  # session, member, header 3, count, one page
        response = client.get(reverse("forums:notification-list"))
    assert _text(response).count("replied to your post") == 3
