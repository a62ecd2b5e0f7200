"""Whole-page caching for visitors, dropped per scope by the writes that change a page.

A visitor's page (no session, no pending messages) is the same for every visitor, so
it is served from the cache (Redis when REDIS_URL is set, so every app server shares
it) without touching the database. Pages for members are never cached: they carry a
name, a CSRF token and per-member state.

Scopes. A view opts in with `@visitor_page(...)`, naming the scopes its URL shows:
`thread:{pk}` (a thread's pages), `forum:{slug}` (a forum's thread list and about
page), `profile:{username}` (a member's recent and hidden posts), `lists` (the front
page, All Forums, sections, Latest, Greatest), `posts` (pages that show posts from
anywhere: search, the moderation log). Every page is also under `site`. Each scope has
a version in the cache, a random token; a write calls `changed(scope, ...)` and, once
its transaction commits, each of those scopes gets a new token. A page is served from
the cache only while every scope it was rendered under still has the token read
before it was rendered, so no visitor sees a page older than a write that changed what
it shows, and a write in one thread leaves every other thread's pages cached.

Members shown. A post's header shows its author's avatar, badges and post count, which
change with writes elsewhere (a reply in another thread adds to the count). A page
that renders posts says so with `shows(member(pk), ...)` while it renders, and is then
under those `member:{pk}` scopes too. Those versions can only be read after rendering,
so every write first adds one to a counter, then sets its scopes' tokens: a render
during which the counter moved may have read a row before a write and that write's
token after it, so that page is served but not stored.

Site-wide. `site` changes with what every page shows: the admin (site texts, forum
and section names in every page's navigation, members' names and roles), seeds,
imports, re-rendering every post, and a member's name, which thread rows, reply
indexes, "Recommended by" and the logs show as well as their posts: names change
rarely, and tracking every name on a page would cost more at every hit than the
re-renders it saves.

Parts of pages. `versions(...)` gives other caches the same versions, for a part of
pages that members see alike (forums.fragments' reply index): kept under them, the
part is dropped by the same writes.

A hit costs one round trip to the cache (the page with its URL's versions), two for a
page that shows posts (then their authors' versions). Apps call this module with their
scopes; it imports no app.
"""


import contextvars
import functools
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import Resolver404, get_urlconf, resolve

SITE = "site"
LISTS = "lists"
POSTS = "posts"
MODERATION_LOG = "moderation-log"
THREAD = "thread:{pk}"
FORUM = "forum:{slug}"
MEMBER = "member:{pk}"
PROFILE = "profile:{username}"

# Versions only have to outlive the pages stored under them; one that expires or is
# evicted comes back as a new token, which costs a miss and nothing else.
VERSION_SECONDS = 24 * 60 * 60
WRITES_KEY = "page-version:writes"
HEADER = "X-Page-Cache"

_shown: contextvars.ContextVar[set | None] = contextvars.ContextVar("page_cache_shown", default=None)
# The versions the current request has read (_read_versions); None outside a request.
_read_in_request: contextvars.ContextVar[dict | None] = contextvars.ContextVar("page_versions_read", default=None)


def thread(pk) -> str:
    return THREAD.format(pk=pk)


def forum(slug) -> str:
    return FORUM.format(slug=slug)


def member(pk) -> str:
    return MEMBER.format(pk=pk)


def profile(username) -> str:
    return PROFILE.format(username=username)


def _version_key(scope: str) -> str:
    return f"page-version:{scope}"


def _token() -> int:
    return secrets.randbits(62)


def _read_versions(keys: list[str], found: dict | None = None) -> dict:
    """The current version of each key (`found`: what a get_many already returned). A
    key the cache lacks (never bumped, expired or evicted) gets a new token, which no
    stored page can hold. WRITES_KEY, when asked for, comes last and is read again
    after any other key, since the render check relies on reading it last.

    A version this request already read is not asked for again (the header, the
    sponsor and a thread's reply index all key their copies by the site's version, a
    round trip each with Redis). What is keyed by it is made after that first read,
    so it is never older than its key says: a write since then only makes the copy go
    sooner. WRITES_KEY is always read afresh."""
    remembered = _read_in_request.get()
    if found is None:
        known = {} if remembered is None else remembered
        asked = [key for key in keys if key == WRITES_KEY or key not in known]
        found = cache.get_many(asked) if asked else {}
        found.update((key, known[key]) for key in keys if key not in asked)
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, _token(), None if key == WRITES_KEY else VERSION_SECONDS)
        found.update(cache.get_many([key for key in keys if key in missing or key == WRITES_KEY]))
    if remembered is not None:
        remembered.update((key, version) for key, version in found.items() if key != WRITES_KEY)
    return found


def site_version():
    """The site-wide version, for caches of what every page shows (header, sponsor)."""
    key = _version_key(SITE)
    return _read_versions([key]).get(key)


class SiteCopy:
    """A value every page shows (the header's navigation, the sponsor), kept by this
    process for the current site version and at most `seconds`, then made again by
    `make()`: read from the shared cache on every request instead, it was unpickled
    each time (model instances). One tuple, so that threads swap it whole."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self._kept = (None, 0.0, None)

    def get(self, version, make):
        """The value for `version` (site_version()'s), made by `make(version)` when
        this process has none for it or its time is up."""
        kept_version, until, value = self._kept
        now = time.monotonic()
        if kept_version != version or now >= until:
            value = make(version)
            self._kept = (version, now + self.seconds, value)
        return value


def versions(*scopes: str) -> tuple | None:
    """The current versions of these scopes, for a cache of a part of pages that they
    cover, members' pages too (forums.fragments' reply index); None while visitors'
    pages are not cached (FORUMS_PAGE_CACHE_SECONDS = 0), as then nothing may be kept.
    Read them before the rows the part is made from, as _serve does: an entry stored
    under them is then never older than a write that changed what it shows."""
    if not settings.FORUMS_PAGE_CACHE_SECONDS:
        return None
    keys = [_version_key(scope) for scope in scopes]
    found = _read_versions(keys)
    found = tuple(found.get(key) for key in keys)
    return found if None not in found else None


def _bump(keys: list[str]) -> None:
    remembered = _read_in_request.get()
    if remembered is not None:
        for key in keys:
            remembered.pop(key, None)
    # The counter first: a render that read any of these keys' new tokens must see it moved.
    try:
        cache.incr(WRITES_KEY)
    except ValueError:
        cache.add(WRITES_KEY, _token(), None)
    cache.set_many({key: _token() for key in keys}, VERSION_SECONDS)


def changed(*scopes: str) -> None:
    """Drop the visitors' pages under these scopes once the current transaction commits
    (at once outside a transaction). Before the commit a visitor could still render
    and store the old rows under the new versions."""
    keys = [_version_key(scope) for scope in dict.fromkeys(scopes)]
    transaction.on_commit(lambda: _bump(keys), robust=True)


def shows(*scopes: str) -> None:
    """Put the visitor's page being rendered under these scopes too, beside its URL's:
    `member(pk)` for each author whose posts it renders. Free on members' pages."""
    shown = _shown.get()
    if shown is not None:
        shown.update(scopes)


def visitor_page(*scopes: str):
    """Let visitors' copies of this view's pages be cached, under `scopes` (formats
    filled from the URL's arguments, e.g. THREAD) and the site."""

    def decorate(view):
        view.page_scopes = scopes
        return view

    return decorate


@functools.lru_cache(maxsize=4096)
def _scopes_of_path(urlconf, path: str) -> tuple[str, ...] | None:
    # Resolving costs about as much as the rest of a hit; visitors ask for the same
    # paths over and over.
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    scopes = getattr(match.func, "page_scopes", None)
    if scopes is None:
        return None
    return (SITE, *(scope.format(**match.kwargs) for scope in scopes))


def _page_scopes(request) -> tuple[str, ...] | None:
    return _scopes_of_path(get_urlconf(), request.path_info)


def _visitor_request(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        # An oversized POST shown as its form page, with a message for this visitor only
        # (config.middleware.limit_request_body).
        and not hasattr(request, "refused_body_mb")
    )


def _storable(response) -> bool:
    return (
        response.status_code == 200
        and not response.cookies
        and not getattr(response, "streaming", False)
        and response.get("Content-Type", "").startswith("text/html")
        and "private" not in response.get("Cache-Control", "")
    )


def _complete(versions: dict) -> bool:
    return all(version is not None for version in versions.values())


def _serve(request, get_response, scopes):
    page_key = f"page:{request.get_full_path()}"
    url_keys = [_version_key(scope) for scope in scopes]
    found = cache.get_many([page_key, *url_keys, WRITES_KEY])
    entry = found.pop(page_key, None)
    if entry is not None:
        url_versions, shown_versions, response = entry
        if all(found.get(key) == version for key, version in url_versions.items()) and (
            not shown_versions or cache.get_many(list(shown_versions)) == shown_versions
        ):
            response[HEADER] = "hit"
            return response

    # Read before rendering, so a write committed after this read leaves the page
    # stored under versions its own bump replaces.
    before = _read_versions([*url_keys, WRITES_KEY], found)
    shown: set = set()
    token = _shown.set(shown)
    try:
        response = get_response(request)
    finally:
        _shown.reset(token)
    if not _storable(response):
        return response
    response[HEADER] = "miss"
    versions = {key: before.get(key) for key in url_keys}
    shown_keys = [_version_key(scope) for scope in sorted(shown)]
    shown_versions = {}
    if shown_keys:
        after = _read_versions([*shown_keys, WRITES_KEY])
        if before.get(WRITES_KEY) is None or after.get(WRITES_KEY) != before.get(WRITES_KEY):
            return response  # a write committed while this page rendered
        shown_versions = {key: after.get(key) for key in shown_keys}
    if _complete(versions) and _complete(shown_versions):
        cache.set(page_key, (versions, shown_versions, response), settings.FORUMS_PAGE_CACHE_SECONDS)
    return response


def visitor_page_cache(get_response):
    def middleware(request):
        token = _read_in_request.set({})
        try:
            return respond(request)
        finally:
            _read_in_request.reset(token)

    def respond(request):
        if settings.FORUMS_PAGE_CACHE_SECONDS and _visitor_request(request):
            scopes = _page_scopes(request)
            if scopes is not None:
                return _serve(request, get_response, scopes)
        response = get_response(request)
        # The admin edits any row (site texts, forum and section names in every page's
        # navigation, members' names and roles) without the apps' services: all pages go.
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if (
            request.method == "POST"
            and match is not None
            and match.namespace == "admin"
            and response.status_code < 400
            and user is not None
            and user.is_authenticated
        ):
            changed(SITE)
        return response

    return middleware
