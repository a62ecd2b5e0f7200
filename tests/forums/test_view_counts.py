"""View counts (issue 19): each reader once per thread per window, visitors included
(even from the page cache), counted in the cache and written in batches."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from forums import view_counts
from forums.models import Thread
from forums.services import thread_subscription_set
from tests.factories import MemberFactory, ThreadFactory


def _views(thread) -> int:
    return Thread.objects.values_list("view_count", flat=True).get(pk=thread.pk)


def _visitor(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


@pytest.fixture
def big_batch(settings):
    settings.FORUMS_VIEW_COUNT_BATCH = 1000
    settings.FORUMS_VIEW_COUNT_FLUSH_SECONDS = 3600


def test_each_reader_counts_once_per_thread(client, thread, big_batch):
    members = MemberFactory.create_batch(2)
    for member in members:
        client.force_login(member)
        client.get(thread.get_absolute_url())
        client.get(thread.get_absolute_url())  # a reload
        client.get(thread.get_view_all_url())  # the same thread, another view
    for address in ["203.0.113.1", "203.0.113.2", "203.0.113.2"]:
        _visitor(address).get(thread.get_absolute_url())

    assert view_counts.flush() == 4
    assert _views(thread) == 4


def test_views_wait_in_the_cache_until_a_batch_is_full(thread, settings):
    settings.FORUMS_VIEW_COUNT_BATCH = 3
    settings.FORUMS_VIEW_COUNT_FLUSH_SECONDS = 3600
    _visitor("203.0.113.1").get(thread.get_absolute_url())
    _visitor("203.0.113.2").get(thread.get_absolute_url())
    assert _views(thread) == 0  # no database write for a view

    _visitor("203.0.113.3").get(thread.get_absolute_url())
    assert _views(thread) == 3


def test_a_visitor_served_from_the_page_cache_is_counted(thread, settings, big_batch):
    settings.FORUMS_PAGE_CACHE_SECONDS = 60
    first = _visitor("203.0.113.1").get(thread.get_absolute_url())
    second = _visitor("203.0.113.2").get(thread.get_absolute_url())
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")

    view_counts.flush()
    assert _views(thread) == 2


def test_only_thread_pages_that_were_shown_count(client, thread, member, big_batch):
    client.get(f"/t/{thread.pk + 1000}/no-such-thread/")  # 404
    client.get(f"/t/{thread.pk}/")  # the short link redirects to the page, which counts
    client.get(thread.forum.get_absolute_url())  # a list, not the thread
    client.force_login(member)
    client.post(thread.get_absolute_url())

    view_counts.flush()
    assert _views(thread) == 0


def test_counts_of_many_readers_at_once_are_exact(thread, big_batch):
    """200 readers on 8 threads of this process: none lost, none counted twice."""
    factory = RequestFactory()

    def read(number):
        request = factory.get(thread.get_absolute_url(), REMOTE_ADDR=f"198.51.100.{number}")
        view_counts.thread_viewed(request, thread.pk)
        view_counts.thread_viewed(request, thread.pk)  # the same reader again

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(read, range(200)))

    assert view_counts.flush() == 200
    assert _views(thread) == 200


def test_a_thread_another_process_is_moving_waits_for_the_next_batch(thread, big_batch):
    from django.core.cache import cache

    _visitor("203.0.113.1").get(thread.get_absolute_url())
    cache.add(view_counts.MOVING.format(thread=thread.pk), 1, 30)  # another process's lock
    assert view_counts.flush() == 0
    assert _views(thread) == 0

    cache.delete(view_counts.MOVING.format(thread=thread.pk))
    assert view_counts.flush() == 1  # kept in this process's batch, moved now
    assert _views(thread) == 1


@pytest.mark.parametrize("page", ["forum", "latest", "home", "subscriptions"])
def test_thread_lists_show_each_threads_views(client, member, forum, page):
    threads = [ThreadFactory(forum=forum, title=f"Thread read {views} times") for views in (3, 1250)]
    for thread, views in zip(threads, (3, 1250)):
        Thread.objects.filter(pk=thread.pk).update(view_count=views)
        thread_subscription_set(member=member, thread=thread, follow=True)
    client.force_login(member)
    url = {
        "forum": forum.get_absolute_url(), "latest": reverse("forums:latest"),
        "home": reverse("forums:home"), "subscriptions": reverse("forums:my-subscriptions"),
    }[page]

    rows = re.findall(r"<tr[^>]*>.*?</tr>", client.get(url).content.decode(), re.S)
    views = {
        title: re.search(r'data-label="Views">([^<]*)<', row).group(1)
        for row in rows for title in ["Thread read 3 times", "Thread read 1250 times"] if title in row
    }
    assert views == {"Thread read 3 times": "3", "Thread read 1250 times": "1,250"}
