"""The admin shows threads and posts but leaves their structure and counters to the
services: a change form cannot move a thread, re-parent or delete a post, or edit the
text the search index and the pages are made from."""

from django.urls import reverse

from forums.models import Forum, Post, Thread
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory
from tests.invariants import assert_counters_equal_rows


def _counters(*forums):
    return [
        Forum.objects.values_list("thread_count", "post_count", "last_post", "last_post_at").get(pk=forum.pk)
        for forum in forums
    ]


def test_thread_admin_change_form_does_not_move_the_thread(admin_client, thread, opening_post):
    ReplyFactory.create_batch(2, parent=opening_post)
    other_forum = ForumFactory()
    ThreadFactory(forum=other_forum)
    before = _counters(thread.forum, other_forum)
    stored = Thread.objects.values("reply_count", "last_activity_at", "last_poster", "author").get(pk=thread.pk)

    url = reverse("admin:forums_thread_change", args=[thread.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"title": "A better title", "slug": "a-better-title", "forum": other_forum.pk,
         "author": other_forum.threads.get().author_id, "reply_count": "0",
         "last_poster": other_forum.threads.get().author_id, "recommendation_count": "0",
         "is_locked": "on", "is_pinned": "on"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = Thread.objects.get(pk=thread.pk)
    assert fresh.title == thread.title  # titles change through the opening post's edit
    assert fresh.forum_id == thread.forum_id
    assert not (fresh.is_locked or fresh.is_pinned)
    assert Thread.objects.values("reply_count", "last_activity_at", "last_poster", "author").get(
        pk=thread.pk
    ) == stored
    assert _counters(thread.forum, other_forum) == before
    assert_counters_equal_rows()


def test_post_admin_change_form_cannot_change_thread_parent_or_deletion(admin_client, opening_post):
    first = ReplyFactory(parent=opening_post)
    reply = ReplyFactory(parent=first, body="Original words")
    elsewhere = ThreadFactory().posts.get(number=0)
    columns = ["thread", "parent", "author", "number", "tree_path", "depth", "subject", "body",
               "body_html", "body_text", "is_deleted", "is_hidden", "edit_count"]
    stored = Post.objects.values(*columns).get(pk=reply.pk)

    url = reverse("admin:forums_post_change", args=[reply.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"thread": elsewhere.thread_id, "parent": elsewhere.pk, "is_deleted": "on",
         "body_text": "planted search words", "body": "new", "subject": "new subject",
         "author": elsewhere.author_id, "number": "9", "tree_path": "0000009", "depth": "1",
         "recommendation_count": "0", "edit_count": "0"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Post.objects.values(*columns).get(pk=reply.pk) == stored
    assert_counters_equal_rows()


def test_admin_neither_adds_nor_deletes_threads_and_posts(admin_client, thread, opening_post):
    reply = ReplyFactory(parent=opening_post)
    for model, obj in (("thread", thread), ("post", reply)):
        assert admin_client.get(reverse(f"admin:forums_{model}_add")).status_code == 403
        assert admin_client.post(reverse(f"admin:forums_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        response = admin_client.post(
            reverse(f"admin:forums_{model}_changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert Thread.objects.filter(pk=thread.pk).exists() and Post.objects.filter(pk=reply.pk).exists()
        assert response.status_code in (200, 302)
    assert_counters_equal_rows()


def test_admin_actions_still_go_through_the_services(admin_client, thread, opening_post):
    reply = ReplyFactory(parent=opening_post, author=MemberFactory())
    admin_client.post(reverse("admin:forums_thread_changelist"),
                      {"action": "lock", "_selected_action": [thread.pk]})
    admin_client.post(reverse("admin:forums_post_changelist"),
                      {"action": "hide", "_selected_action": [reply.pk]})
    assert Thread.objects.get(pk=thread.pk).is_locked
    assert Post.objects.get(pk=reply.pk).is_hidden
    assert_counters_equal_rows()
