"""How many times each thread was read: each reader once per thread per
FORUMS_VIEW_COUNT_WINDOW_MINUTES, visitors included, without a database write per view.

A middleware placed before the page cache (visitors' thread pages are mostly served from
it, without reaching the view) counts every thread page answered 200:
- the reader is a member by id, a visitor by a hash of their address (the cache holds
  no one's address); `cache.add` on (thread, reader) with the window as its timeout
  lets one view in per window, across every app process when the cache is Redis;
- a reader let in adds one to the thread's pending count in the cache;
- each process remembers which threads it counted and, after FORUMS_VIEW_COUNT_BATCH
  counts or FORUMS_VIEW_COUNT_FLUSH_SECONDS, moves their pending counts to the database
  in one transaction (forums.services.thread_views_add). A short cache lock per thread
  stops two processes from moving the same count twice.
A process that dies keeps its counts in the cache (Redis) until another process counts
that thread again; a count read from the cache but not yet written (one batch) is all a
crash can lose. Without Redis each process counts in its own memory (`make run`).
"""

import atexit
import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.urls import Resolver404, get_urlconf, resolve

from config.ratelimit import client_ip

from . import services

logger = logging.getLogger(__name__)

SEEN = "views:seen:{thread}:{reader}"
PENDING = "views:pending:{thread}"
MOVING = "views:moving:{thread}"


def counted(view):
    """Count the readers of this view's pages; its URL names the thread as `pk`."""
    view.counts_thread_views = True
    return view


@functools.lru_cache(maxsize=4096)
def _thread_of_path(urlconf, path: str) -> int | None:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    if not getattr(match.func, "counts_thread_views", False):
        return None
    return match.kwargs.get("pk")


class _Seen:
    """The (thread, reader) pairs this process let in lately, so that a reader paging
    through a thread, or reloading it, costs no cache round trip after the first."""

    def __init__(self, size=10_000):
        self.size, self.until, self.lock = size, OrderedDict(), threading.Lock()

    def first_time(self, key: str, now: float) -> bool:
        with self.lock:
            until = self.until.get(key)
            if until is not None and until > now:
                return False
            self.until[key] = now + settings.FORUMS_VIEW_COUNT_WINDOW_MINUTES * 60
            self.until.move_to_end(key)
            if len(self.until) > self.size:
                self.until.popitem(last=False)
            return True


class _Batch:
    """Threads this process counted since it last moved their counts to the database."""

    def __init__(self):
        self.threads, self.counted, self.since = set(), 0, time.monotonic()
        self.lock = threading.Lock()

    def add(self, thread_id: int) -> set[int]:
        """Count one view; the threads whose counts are due to be moved, if any."""
        with self.lock:
            self.threads.add(thread_id)
            self.counted += 1
            if (
                self.counted < settings.FORUMS_VIEW_COUNT_BATCH
                and time.monotonic() - self.since < settings.FORUMS_VIEW_COUNT_FLUSH_SECONDS
            ):
                return set()
            return self._take()

    def take(self) -> set[int]:
        with self.lock:
            return self._take()

    def _take(self) -> set[int]:
        due, self.threads, self.counted, self.since = self.threads, set(), 0, time.monotonic()
        return due

    def keep(self, thread_ids) -> None:
        with self.lock:
            self.threads.update(thread_ids)


_seen = _Seen()
_batch = _Batch()


def _reader(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"m{user.pk}"
    return "v" + hashlib.blake2b(client_ip(request).encode(), digest_size=8).hexdigest()


def _reader_as_sent(request) -> str:
    """Who is reading, from what the request carries as it is: the same text always
    names the same reader. Finding the client's address behind proxies and hashing it
    cost about an eighth of a cached visitor's page, so this process's memory of
    readers goes by this, and only a reader new to it pays for _reader()."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"m{user.pk}"
    meta = request.META  # hashed: this memory holds no one's address either
    return f"v{hash((meta.get('REMOTE_ADDR'), meta.get('HTTP_X_FORWARDED_FOR')))}"


def thread_viewed(request, thread_id: int) -> None:
    if not _seen.first_time(f"{thread_id}:{_reader_as_sent(request)}", time.monotonic()):
        return
    key = SEEN.format(thread=thread_id, reader=_reader(request))
    if not cache.add(key, 1, settings.FORUMS_VIEW_COUNT_WINDOW_MINUTES * 60):
        return  # seen by another process in this window
    pending = PENDING.format(thread=thread_id)
    try:
        cache.incr(pending)
    except ValueError:  # the first view since the last move
        if not cache.add(pending, 1, timeout=None):
            cache.incr(pending)
    due = _batch.add(thread_id)
    if due:
        flush(due)


def flush(thread_ids=None) -> int:
    """Move the pending counts of these threads (default: all this process counted) from
    the cache to the database; how many views were moved."""
    thread_ids = _batch.take() if thread_ids is None else thread_ids
    counts, busy = {}, []
    for thread_id in thread_ids:
        moving = MOVING.format(thread=thread_id)
        if not cache.add(moving, 1, 30):
            busy.append(thread_id)  # another process is moving it; try again next batch
            continue
        try:
            pending = PENDING.format(thread=thread_id)
            count = cache.get(pending) or 0
            if count > 0:
                cache.decr(pending, count)
                counts[thread_id] = count
        except ValueError:  # evicted meanwhile: nothing to move
            pass
        finally:
            cache.delete(moving)
    _batch.keep(busy)
    if counts:
        services.thread_views_add(counts)
    return sum(counts.values())


@atexit.register
def _flush_at_exit():
    """A worker that stops (gunicorn's max_requests, a deploy) moves what it counted
    first; if it cannot, the counts wait in the cache for the next process."""
    try:
        flush()
    except Exception:
        logger.warning("Could not save the thread view counts at exit.", exc_info=True)


def count_thread_views(get_response):
    def middleware(request):
        response = get_response(request)
        if request.method == "GET" and response.status_code == 200:
            thread_id = _thread_of_path(get_urlconf(), request.path_info)
            if thread_id is not None:
                thread_viewed(request, thread_id)
        return response

    return middleware


def forget() -> None:
    """Drop this process's memory of readers and counted threads, as when the cache
    they stand for is cleared (tests clear it around each test)."""
    with _seen.lock:
        _seen.until.clear()
    _batch.take()
