import os
import shutil
import tempfile
import weakref
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.db.backends.signals import connection_created
from django.test import override_settings

from forums import view_counts
from forums.fragments import forget_process_copies
from forums.models import Post

from .processes import run_python
from .factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory
from .world import built_once, fresh


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Test on an SQLite file, as the site runs, rather than in memory: concurrency
    tests need separate connections that really compete for the write lock."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] in {"django.db.backends.sqlite3", "config.sqlite"}:
        database["TEST"]["NAME"] = os.path.join(
            tempfile.gettempdir(), f"grassroots-test-{os.getpid()}.sqlite3"
        )


# Every database connection the tests open, so that the last can be closed before the
# test databases are dropped (django_db_setup below).
_OPENED_CONNECTIONS = weakref.WeakSet()
connection_created.connect(lambda sender, connection, **kwargs: _OPENED_CONNECTIONS.add(connection), weak=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's, closing every connection still open before the test databases
    are dropped. Django closes only the connection it made the database with, but it
    keeps one per thread and context: on PostgreSQL a worker's run sometimes ended with
    another, opened by a later test, still open, so the database could not be dropped
    ("being accessed by other users") and the run ended with that warning."""
    yield
    for opened in list(_OPENED_CONNECTIONS):
        if opened.connection is not None:
            opened.connection.close()


@pytest.fixture(scope="session", autouse=True)
def _fast_flush_on_postgresql():
    """Every transactional test (browser and concurrency tests) ends with a flush of the
    test database. On PostgreSQL Django flushes with one TRUNCATE of all fifty tables,
    which makes new files for every table and index and syncs them at commit: about a
    second here, for the few rows a test leaves. So the tests flush as SQLite does, with
    DELETE FROM each table (milliseconds). The foreign keys are deferred to the commit,
    when every table is empty, so the order does not matter; sequences are not reset
    either way, and a flush that asks for that (or for CASCADE) still truncates."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    operations = type(connection.ops)
    truncate = operations.sql_flush

    def sql_flush(ops, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(ops, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(ops.quote_name(table))};" for table in tables]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", sql_flush)
        yield


@pytest.fixture(scope="session", autouse=True)
def _redis_database_per_worker():
    """pytest-xdist's workers share one Redis server and each clears its cache around
    every test (a FLUSHDB), so each worker gets a database of its own: gw0 keeps the
    one REDIS_URL names, gw1 the next, and so on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    caches = django_settings.CACHES
    location = caches["default"].get("LOCATION", "")
    if not worker.startswith("gw") or not str(location).startswith("redis"):
        yield
        return
    url = urlsplit(location)
    database = (int(url.path.strip("/") or 0) + int(worker[2:])) % 16
    own_location = urlunsplit(url._replace(path=f"/{database}"))
    # Every alias kept in that Redis (the post fragments share it) moves with it.
    own = {
        alias: {**config, "LOCATION": own_location} if config.get("LOCATION") == location else config
        for alias, config in caches.items()
    }
    with override_settings(CACHES=own):
        yield


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """An empty SQLite database file, migrated once per worker by `manage.py migrate`
    in a fresh process; tests that need one copy it (`empty_sqlite`)."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite3"
    result = run_python("manage.py", "migrate", "--noinput", DATABASE_URL=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def empty_sqlite(migrated_sqlite, tmp_path):
    """DATABASE_URL of a fresh, migrated, empty SQLite database for a process to use."""
    path = tmp_path / "site.sqlite3"
    shutil.copy(migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def _sessions_in_the_database(request, settings):
    """Query counts are pinned with sessions in the database, as without Redis; with
    REDIS_URL the site reads them from the cache (one query fewer per member's page),
    which the tests marked `cached_sessions` exercise."""
    if "cached_sessions" not in request.keywords:
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


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


@pytest.fixture(scope="session", autouse=True)
def _pictures_in_a_temporary_folder(tmp_path_factory):
    """Pictures the tests upload stay out of the project folder."""
    pictures = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path_factory.mktemp("pictures"), "base_url": None},
    }
    with override_settings(STORAGES={**django_settings.STORAGES, "pictures": pictures}):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    # Redis outlives a test; a cached page, post or counter must not leak into the next one.
    fragments, header = caches[django_settings.FORUMS_FRAGMENT_CACHE], caches["header"]
    cache.clear()
    fragments.clear()
    header.clear()
    forget_process_copies()
    view_counts.forget()
    yield
    cache.clear()
    fragments.clear()
    header.clear()
    forget_process_copies()
    view_counts.forget()


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


def _build_busy_forum():
    authors = MemberFactory.create_batch(3)
    forum = ForumFactory(name="Busy Forum", slug="busy-forum")
    threads = [ThreadFactory(forum=forum, author=authors[n % 3]) for n in range(50)]
    for n in range(200):
        thread = threads[n % 5]
        earlier = list(thread.posts.order_by("-number").values_list("pk", flat=True)[:2])
        parent = Post.objects.get(pk=earlier[n % len(earlier)])
        ReplyFactory(parent=parent, author=authors[(n + 1) % 3])
    return forum


@pytest.fixture(scope="module")
def _busy_forum_built(django_db_setup, django_db_blocker):
    with built_once(django_db_blocker, _build_busy_forum) as forum:
        yield forum


@pytest.fixture
def busy_forum(_busy_forum_built, db):
    """A forum with 50 threads and 200 replies from three authors, replies nested.

    Enough rows of every kind a page loops over that an N+1 query shows up as a
    different query count. Built once per module (tests/world.py).
    """
    return fresh(_busy_forum_built)
