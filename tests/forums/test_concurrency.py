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
