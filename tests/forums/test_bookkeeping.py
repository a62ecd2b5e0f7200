"""Forum-row bookkeeping that other apps ask forums.services for: moving a thread's
counters, recounting forums from their rows, and creating notifications."""

from forums.models import Forum, Notification, Post, Thread
from forums.services import forum_counters_refresh, notifications_create, thread_forum_change
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory
from tests.invariants import assert_counters_equal_rows


def test_thread_forum_change_moves_counters_and_last_posts(thread, opening_post):
    ReplyFactory.create_batch(2, parent=opening_post)
    source, target = thread.forum, ForumFactory()
    older = ThreadFactory(forum=target)
    newest = Post.objects.filter(thread=thread).order_by("-created_at", "-id").first()

    moved = thread_forum_change(thread=thread, forum=target)

    assert moved.forum_id == target.pk
    source, target = Forum.objects.get(pk=source.pk), Forum.objects.get(pk=target.pk)
    assert (source.thread_count, source.post_count, source.last_post_id) == (0, 0, None)
    assert (target.thread_count, target.post_count) == (2, 4)
    assert target.last_post_id in {newest.pk, older.posts.get().pk}
    assert_counters_equal_rows()


def test_thread_forum_change_to_its_own_forum_changes_nothing(thread):
    before = Forum.objects.values().get(pk=thread.forum_id)
    assert thread_forum_change(thread=thread, forum=thread.forum).forum_id == thread.forum_id
    assert Forum.objects.values().get(pk=thread.forum_id) == before


def test_forum_counters_refresh_recounts_after_threads_go(forum):
    keep, gone = ThreadFactory(forum=forum), ThreadFactory(forum=forum)
    ReplyFactory(parent=keep.posts.get(number=0))
    Thread.objects.filter(pk=gone.pk).delete()

    forum_counters_refresh(forum_ids=[forum.pk, forum.pk])

    forum.refresh_from_db()
    assert (forum.thread_count, forum.post_count) == (1, 2)
    assert forum.last_post == keep.posts.order_by("-created_at", "-id").first()
    # From the rows, not from what the columns said.
    Forum.objects.filter(pk=forum.pk).update(thread_count=99, post_count=0)
    forum_counters_refresh(forum_ids=[forum.pk])
    assert Forum.objects.values_list("thread_count", "post_count").get(pk=forum.pk) == (1, 2)


def test_forum_counters_refresh_of_an_emptied_forum_clears_its_last_post(thread):
    Thread.objects.filter(pk=thread.pk).delete()
    forum_counters_refresh(forum_ids={thread.forum_id})
    forum = Forum.objects.get(pk=thread.forum_id)
    assert (forum.thread_count, forum.post_count, forum.last_post, forum.last_post_at) == (0, 0, None, None)


def test_notifications_create_counts_unread_and_emails_only_when_asked(
    opening_post, django_capture_on_commit_callbacks
):
    first, second = MemberFactory(), MemberFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        made = notifications_create(
            recipients={first.pk: Notification.Kind.MENTION, second.pk: Notification.Kind.THREAD},
            post=opening_post, actor_id=opening_post.author_id,
        )
    assert len(made) == 2 and not callbacks
    with django_capture_on_commit_callbacks() as callbacks:
        notifications_create(recipients={first.pk: Notification.Kind.REPLY}, post=opening_post, email=True)
    assert len(callbacks) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.unread_notification_count, second.unread_notification_count) == (2, 1)
    assert set(Notification.objects.filter(recipient=first).values_list("kind", flat=True)) == {"mention", "reply"}
    assert notifications_create(recipients={}, post=opening_post) == []
