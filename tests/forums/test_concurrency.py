"""Nothing is lost when many members post at once, on SQLite and on PostgreSQL."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from forums.models import Forum, Post, Thread
from tests.factories import ForumFactory, MemberFactory, ThreadFactory

WORKERS = 8
REPLIES_EACH = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_are_all_kept_and_counted():
    forum = ForumFactory()
    thread = ThreadFactory(forum=forum)
    opening_post = thread.posts.get(number=0)
    members = MemberFactory.create_batch(WORKERS)
    url = reverse("forums:reply-create", args=[thread.pk, 0])
    start = threading.Barrier(WORKERS)
    statuses = []
    lock = threading.Lock()

    def post_replies(member):
        client = Client()
        client.force_login(member)
        start.wait()
        try:
            for n in range(REPLIES_EACH):
                response = client.post(url, {"body": f"{member.username} reply {n}", "post": "1"})
                with lock:
                    statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=post_replies, args=(member,)) for member in members]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began

    total = WORKERS * REPLIES_EACH
    assert statuses == [302] * total  # no error page, no refusal
    thread.refresh_from_db()
    forum.refresh_from_db()
    numbers = sorted(Post.objects.filter(thread=thread).replies().values_list("number", flat=True))
    assert numbers == list(range(1, total + 1))
    assert thread.reply_count == total
    assert forum.post_count == total + 1 == Post.objects.filter(thread__forum=forum).count()
    assert Forum.objects.get(pk=forum.pk).last_post_at == thread.last_activity_at
    for member in User.objects.filter(pk__in=[m.pk for m in members]):
        assert member.post_count == REPLIES_EACH == member.posts.count()
    assert Thread.objects.get(pk=thread.pk).last_activity_at == (
        Post.objects.filter(thread=thread).order_by("-created_at").first().created_at
    )
    assert opening_post.replies.count() == total
    print(f"\n{total} replies from {WORKERS} workers on {connection.vendor} in {elapsed:.1f} s")


@pytest.mark.django_db(transaction=True)
def test_two_replies_that_notify_each_others_authors_are_both_kept(monkeypatch):
    """Ada replies to Bob's thread while Bob replies to Ada's, in other forums: each
    reply adds one to its author's post count and one to the other's unread count. They
    meet between the two (a barrier before the notifications), as a busy server's timing
    can have it. Each locked its own author first, then waited for the other's, until
    PostgreSQL ended one as a deadlock: a 500, and the reply gone."""
    from forums import services

    ada, bob = MemberFactory(username="ada"), MemberFactory(username="bob")
    adas = ThreadFactory(forum=ForumFactory(), author=ada)
    bobs = ThreadFactory(forum=ForumFactory(), author=bob)
    meet = threading.Barrier(2, timeout=0.5)
    original = services.notifications_create

    def notify_after_meeting(**kwargs):
        try:
            meet.wait()
        except threading.BrokenBarrierError:
            pass  # the other reply waits for a lock this one holds: it cannot come
        return original(**kwargs)

    monkeypatch.setattr(services, "notifications_create", notify_after_meeting)
    before = {member.pk: _counts(member) for member in (ada, bob)}
    errors = []

    def reply(author, thread):
        try:
            services.reply_create(author=author, parent=thread.posts.get(number=0), body=f"{author.username} was here")
        except Exception as error:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=reply, args=(ada, bobs)), threading.Thread(target=reply, args=(bob, adas))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    for member in (ada, bob):
        posts, unread = before[member.pk]
        assert _counts(member) == (posts + 1, unread + 1)
    assert Post.objects.filter(body__endswith="was here").count() == 2


def _counts(member) -> tuple[int, int]:
    member.refresh_from_db()
    return member.post_count, member.unread_notification_count
