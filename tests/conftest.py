import os
import tempfile

import pytest
from django.core.cache import cache

from forums.models import Post

from .factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Test on an SQLite file, as the site runs, rather than in memory: concurrency
    tests need separate connections that really compete for the write lock."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["TEST"]["NAME"] = os.path.join(
            tempfile.gettempdir(), f"grassroots-test-{os.getpid()}.sqlite3"
        )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a member; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_post_count_probation(settings):
    # Members count as new for their first 10 posts; tests that exercise those
    # limits set this back to 10 themselves.
    settings.FORUMS_NEW_MEMBER_POSTS = 0


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    # Tests post, message and search far faster than anyone would; the limits
    # themselves are covered by tests/security/test_rate_limits.py, which sets them.
    settings.FORUMS_RATE_LIMITS = {}


@pytest.fixture(autouse=True)
def _no_visitor_page_cache(settings):
    # Tests change data through services between requests, which the page cache
    # (bumped by POSTs) would not see; tests/test_page_cache.py covers the cache.
    settings.FORUMS_PAGE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _clear_cache():
    # Redis outlives a test; a cached page or counter must not leak into the next one.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def other_member(db):
    return MemberFactory()


@pytest.fixture
def forum(db):
    return ForumFactory()


@pytest.fixture
def thread(forum, member):
    return ThreadFactory(forum=forum, author=member)


@pytest.fixture
def opening_post(thread):
    return thread.posts.get(number=0)


@pytest.fixture
def reply(opening_post, other_member):
    return ReplyFactory(parent=opening_post, author=other_member)


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def busy_forum(db):
    """A forum with 50 threads and 200 replies from three authors, replies nested.

    Enough rows of every kind a page loops over that an N+1 query shows up as a
    different query count.
    """
    authors = MemberFactory.create_batch(3)
    forum = ForumFactory(name="Busy Forum", slug="busy-forum")
    threads = [ThreadFactory(forum=forum, author=authors[n % 3]) for n in range(50)]
    for n in range(200):
        thread = threads[n % 5]
        earlier = list(thread.posts.order_by("-number").values_list("pk", flat=True)[:2])
        parent = Post.objects.get(pk=earlier[n % len(earlier)])
        ReplyFactory(parent=parent, author=authors[(n + 1) % 3])
    return forum
