"""The machines under a forum fail: a database connection dies mid-request, Redis
stops, another process holds SQLite's write lock. Members notice none of it beyond,
at worst, one clean error page; nothing is half-written and the next request works.
"""

import http.client
import logging
import re
import runpy
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import User
from forums.models import Post, Thread
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory

ROOT = Path(__file__).resolve().parent.parent.parent
LEAKS = ("Traceback", "OperationalError", "InterfaceError", "terminating connection", "psycopg", "File \"")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _reply_form(parent: Post) -> str:
    return reverse("forums:reply-create", args=[parent.thread_id, parent.number])


# --- PostgreSQL: a backend killed ------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class OneWorkerServer:
    """A sync worker in miniature: one thread serves requests one at a time through
    Django's WSGI handler, keeping its database connection between requests (as a
    gunicorn sync worker does with CONN_MAX_AGE), with Django's own request signals."""

    def __init__(self):
        self.server = make_server("127.0.0.1", 0, WSGIHandler(), WSGIServer, _QuietHandler)
        self.server.timeout = 0.1
        self.port = self.server.server_port
        self.cookies: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        try:
            while not self._stop.is_set():
                self.server.handle_request()
        finally:
            # The worker's persistent connection would keep the test database open.
            connections.close_all()

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        self.server.server_close()

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        """One request with this server's cookie jar; redirects are returned, not followed."""
        body = None
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers), text
        finally:
            conn.close()


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    return connection


@pytest.fixture
def worker(postgres, monkeypatch):
    # `make test` sets DB_CONN_MAX_AGE=0 for the live-server browser tests; production
    # keeps connections (60 s by default), which is the case worth proving here.
    # The settings dict is shared by every thread's connection.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    server = OneWorkerServer()
    yield server
    server.stop()


def _other_backends() -> list[tuple[int, str, str]]:
    """(pid, wait event type, query) of every other connection to the test database."""
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL would keep answering from its first snapshot.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid, coalesce(wait_event_type, ''), query FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        return cursor.fetchall()


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True


@pytest.mark.django_db(transaction=True)
def test_settings_replace_a_dead_persistent_connection(postgres):
    # A persistent connection is checked before each request reuses it.
    assert django_settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db(transaction=True)
def test_postgres_connection_killed_between_requests_is_replaced(worker):
    ThreadFactory()
    # Connections that earlier tests of the session left behind are not the worker's.
    earlier = {row[0] for row in _other_backends()}

    def workers_backends():
        return [row for row in _other_backends() if row[0] not in earlier]

    status, _, _ = worker.request("GET", "/")
    assert status == 200
    (first,) = workers_backends()
    assert worker.request("GET", "/")[0] == 200
    assert [row[0] for row in workers_backends()] == [first[0]]  # the connection was kept

    # What a PostgreSQL restart, a failover or an idle-connection reaper does.
    _terminate(first[0])
    status, _, html = worker.request("GET", reverse("forums:latest"))

    assert status == 200
    assert "Latest" in html
    (second,) = workers_backends()
    assert second[0] != first[0]


@pytest.mark.django_db(transaction=True)
def test_postgres_connection_killed_mid_reply_gives_a_clean_error_and_keeps_nothing(worker):
    forum = ForumFactory()
    thread = ThreadFactory(forum=forum)
    opening_post = thread.posts.get(number=0)
    member = MemberFactory()
    client = Client()
    client.force_login(member)
    worker.cookies["sessionid"] = client.cookies["sessionid"].value
    status, _, form_html = worker.request("GET", _reply_form(opening_post))
    assert status == 200
    form = {"csrfmiddlewaretoken": _csrf_token(form_html), "body": "Lost in the outage?", "post": "1"}
    posts_before = Post.objects.count()
    result = {}

    def send_reply():
        result["response"] = worker.request("POST", _reply_form(opening_post), form)

    # Hold the member's row (but not its key, which the new post refers to), so the
    # reply's transaction stops before its last writes: the post is inserted, the
    # thread and forum counted, and it waits to lock its members' rows (the author's
    # and those it notifies) to count them.
    with transaction.atomic():
        User.objects.select_for_update(no_key=True).get(pk=member.pk)
        sender = threading.Thread(target=send_reply)
        sender.start()
        deadline = time.monotonic() + 20
        waiting = []
        while not waiting and time.monotonic() < deadline:
            waiting = [row for row in _other_backends() if row[1] == "Lock"]
            time.sleep(0.05)
        assert waiting, "the reply never waited for the member's row"
        (pid, _, query) = waiting[0]
        assert query.startswith('SELECT "accounts_user"."id"') and query.endswith("FOR NO KEY UPDATE")
        _terminate(pid)
    sender.join(30)

    status, _, html = result["response"]
    assert status == 500
    assert "Something went wrong" in html
    assert not [leak for leak in LEAKS if leak in html]
    # The half-done transaction died with its backend: no post, no counts.
    assert Post.objects.count() == posts_before
    thread.refresh_from_db()
    forum.refresh_from_db()
    member.refresh_from_db()
    assert (thread.reply_count, forum.post_count, member.post_count) == (0, 1, 0)

    # The next request gets a new connection; the member sends the reply again.
    status, headers, _ = worker.request("POST", _reply_form(opening_post), form)
    assert status == 302
    reply = Post.objects.get(thread=thread, number=1)
    assert reply.body == "Lost in the outage?"
    assert headers["Location"] == reply.get_absolute_url()
    thread.refresh_from_db()
    assert thread.reply_count == 1
    assert "Lost in the outage?" in worker.request("GET", thread.get_absolute_url())[2]


# --- Redis stopped -----------------------------------------------------------------


def _production_caches(redis_url: str, monkeypatch) -> dict:
    """CACHES exactly as config/settings.py builds it for this REDIS_URL."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))["CACHES"]


@pytest.fixture
def own_redis():
    """A Redis server of this test's own (the shared one stays up for everyone else).
    Yields its URL and a function that kills it."""
    port = _free_port()
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _listening(port):
        assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
        time.sleep(0.05)

    def kill():
        process.kill()
        process.wait(10)

    yield f"redis://127.0.0.1:{port}/0", kill
    if process.poll() is None:
        kill()


@pytest.fixture
def redis_site(db, settings, own_redis, monkeypatch):
    pytest.importorskip("django_redis")
    url, kill = own_redis
    settings.CACHES = _production_caches(url, monkeypatch)
    settings.FORUMS_PAGE_CACHE_SECONDS = 60  # the visitor page cache is in play too
    forum = ForumFactory(slug="tools")
    member, other = MemberFactory(username="ada"), MemberFactory(username="brook")
    thread = ThreadFactory(forum=forum, author=other, title="Sharpening chisels")
    ReplyFactory(parent=thread.posts.get(number=0), author=member)
    return {"forum": forum, "thread": thread, "member": member, "kill": kill}


def _main_pages(site) -> dict[str, str]:
    forum, thread, member = site["forum"], site["thread"], site["member"]
    return {
        "home": reverse("forums:home"),
        "forums": reverse("forums:forum-index"),
        "section": reverse("forums:section-detail", args=[forum.section.slug]),
        "forum": forum.get_absolute_url(),
        "about": reverse("forums:forum-about", args=[forum.slug]),
        "thread": thread.get_absolute_url(),
        "thread all": reverse("forums:thread-all", args=[thread.pk, thread.slug]),
        "profile": member.get_absolute_url(),
        "latest": reverse("forums:latest"),
        "greatest": reverse("forums:greatest"),
        "search": reverse("forums:search") + "?q=chisels",
        "feed": reverse("forums:latest-feed"),
        "moderation log": reverse("moderation:log"),
    }


def _visitor_pages() -> dict[str, str]:
    # Members are sent on from these.
    return {"login": reverse("account_login"), "signup": reverse("account_signup"),
            "password reset": reverse("account_reset_password")}


def _member_pages(site) -> dict[str, str]:
    thread = site["thread"]
    return {
        "my posts": reverse("forums:my-posts"),
        "my subscriptions": reverse("forums:my-subscriptions"),
        "notifications": reverse("forums:notification-list"),
        "settings": reverse("members:settings"),
        "inbox": reverse("conversations:inbox"),
        "new thread": reverse("forums:thread-create", args=[site["forum"].slug]),
        "reply form": reverse("forums:reply-create", args=[thread.pk, 0]),
    }


def _statuses(client, pages: dict[str, str]) -> dict[str, int]:
    return {name: client.get(url).status_code for name, url in pages.items()}


def _redis_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("django_redis") and r.levelno >= logging.ERROR]


def test_every_page_serves_with_redis_stopped_and_the_errors_are_logged(
    redis_site, caplog, django_assert_num_queries
):
    visitor, member = Client(), Client()
    member.force_login(redis_site["member"])
    pages = _main_pages(redis_site)
    visitor_pages, member_pages = {**pages, **_visitor_pages()}, {**pages, **_member_pages(redis_site)}
    home = pages["home"]
    assert visitor.get(home).status_code == 200
    with django_assert_num_queries(0):  # served from Redis now
        assert visitor.get(home).status_code == 200
    assert not _redis_errors(caplog)

    redis_site["kill"]()
    caplog.clear()

    visitor_statuses = _statuses(visitor, visitor_pages)
    member_statuses = _statuses(member, member_pages)

    assert visitor_statuses == dict.fromkeys(visitor_pages, 200)
    assert member_statuses == dict.fromkeys(member_pages, 200)
    errors = _redis_errors(caplog)
    assert errors and all(record.exc_info for record in errors)


def test_members_log_in_and_post_with_redis_stopped(redis_site, caplog):
    thread, member = redis_site["thread"], redis_site["member"]
    visitor = Client()
    assert "Sharpening chisels" in visitor.get(thread.get_absolute_url()).content.decode()
    redis_site["kill"]()

    client = Client()
    response = client.post(
        reverse("account_login"), {"login": member.username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(reverse("forums:my-posts")).status_code == 200  # the session holds
    response = client.post(
        reverse("forums:reply-create", args=[thread.pk, 0]), {"body": "Posted during the outage", "post": "1"}
    )
    assert response.status_code == 302
    assert Post.objects.filter(thread=thread, body="Posted during the outage").exists()
    # No stale page for visitors either: nothing was cached while Redis was down.
    assert "Posted during the outage" in visitor.get(thread.get_absolute_url()).content.decode()
    # The load balancer hears that this server's cache is gone.
    health = visitor.get("/healthz")
    assert health.status_code == 503
    assert health.json()["checks"] == {"database": "ok", "cache": "unavailable"}
    assert _redis_errors(caplog)


# --- SQLite busy -------------------------------------------------------------------

HOLD_SECONDS = 2.5


@pytest.mark.django_db(transaction=True)
def test_sqlite_write_waits_for_the_lock_and_succeeds():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert django_settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    thread = ThreadFactory()
    member = MemberFactory()
    client = Client()
    client.force_login(member)
    path = connection.settings_dict["NAME"]
    assert Path(path).is_file()  # a real file, shared by separate connections
    locked, released = threading.Event(), threading.Event()

    def hold_write_lock():
        # Another process: a backup, a management command, another gunicorn worker.
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(HOLD_SECONDS)
            other.execute("COMMIT")
            released.set()
        finally:
            other.close()

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    assert locked.wait(10)
    try:
        # Readers are not blocked at all (WAL).
        page = Client().get(thread.get_absolute_url())
        assert page.status_code == 200 and not released.is_set()

        began = time.monotonic()
        response = client.post(
            reverse("forums:reply-create", args=[thread.pk, 0]), {"body": "Worth the wait", "post": "1"}
        )
        waited = time.monotonic() - began
    finally:
        holder.join(30)

    assert response.status_code == 302
    assert released.is_set()
    assert waited >= HOLD_SECONDS / 2  # it queued behind the lock rather than failing
    reply = Post.objects.get(thread=thread, number=1)
    assert reply.body == "Worth the wait"
    assert Thread.objects.get(pk=thread.pk).reply_count == 1
