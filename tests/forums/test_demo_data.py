"""generate_demo_data: benchmark data that the site cannot tell from posted data."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Max
from django.urls import reverse

from accounts.models import User
from forums.models import Forum, Post, Thread
from forums.rendering import render_post
from forums.search import parse, search_posts
from tests.factories import ReplyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _generate(**options):
    call_command(
        "generate_demo_data", members=20, threads=40, posts=600, hot_thread=120, seed=3,
        stdout=open("/dev/null", "w"), **options,
    )


def _snapshot():
    return list(
        Thread.objects.filter(author__username__startswith="demo")
        .order_by("pk")
        .values_list("title", "reply_count", "forum__slug")
    )


def test_counters_equal_the_rows_and_threads_are_skewed():
    _generate()

    assert Post.objects.filter(thread__title__startswith="Hot thread").count() == 121
    threads = Thread.objects.annotate(replies=Count("posts") - 1)
    assert all(thread.reply_count == thread.replies for thread in threads)
    assert sum(thread.replies for thread in threads) + threads.count() >= 600
    for forum in Forum.objects.annotate(threads_there=Count("threads", distinct=True)):
        assert forum.thread_count == forum.threads_there
        assert forum.post_count == Post.objects.filter(thread__forum=forum).count()
    for member in User.objects.filter(username__startswith="demo"):
        assert member.post_count == Post.objects.filter(author=member).count()
    # Numbers 0..N without gaps in every thread, replies under an earlier post.
    for thread in Thread.objects.annotate(top=Max("posts__number")):
        assert thread.top == thread.reply_count
    reply = Post.objects.filter(parent__isnull=False).select_related("parent").last()
    assert reply.tree_path.startswith(reply.parent.tree_path) and reply.number > reply.parent.number


def test_posts_are_rendered_searchable_and_shown_like_posted_ones(client):
    _generate()
    post = Post.objects.filter(parent__isnull=False).order_by("?").first()

    assert post.body_html == render_post(post.body)
    word = post.body_text.split()[3].strip(".,").lower()
    found = search_posts(parse(word))
    assert found.count() > 0
    thread = Thread.objects.order_by("-reply_count").first()
    response = client.get(thread.get_absolute_url())
    assert response.status_code == 200 and thread.title in response.content.decode()
    # Posting after the load works (ids continue) and is indexed: the trigger is back.
    ReplyFactory(parent=thread.posts.get(number=0), body="Zanzibarian bulk loads")
    results = client.get(reverse("forums:search"), {"q": "zanzibarian"}).content.decode()
    assert thread.title in results


def test_same_seed_same_data():
    _generate()
    first = _snapshot()
    _generate()  # a second run with the same seed adds the same threads again

    assert _snapshot() == first + first
