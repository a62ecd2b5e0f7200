"""Whole-page caching for visitors, with a site-wide version that every write bumps.

A visitor's page (no session, no pending messages) is the same for every visitor,
so it is served from the cache (Redis when REDIS_URL is set, so every app server
shares it) without touching the database. Any successful POST by a member, to any
page (the admin included), bumps the version, so the next visitor sees a new post at once; old
entries simply expire. Pages for members are never cached: they carry a name,
a CSRF token and per-member state.
"""

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "site:version"
NEVER_CACHED_PREFIXES = ("/admin/", "/accounts/", "/settings/", "/messages/", "/notifications/",
                         "/my/", "/healthz", "/star/", "/__")


def site_version() -> int:
    return cache.get_or_set(VERSION_KEY, 1, timeout=None)


def bump_site_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def _visitor_request(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not request.path.startswith(NEVER_CACHED_PREFIXES)
        # An oversized POST shown as its form page, with a message for this visitor only
        # (config.middleware.limit_request_body).
        and not hasattr(request, "refused_body_mb")
    )


def _cache_key(request, version) -> str:
    return f"page:{version}:{request.get_full_path()}"


def visitor_page_cache(get_response):
    def middleware(request):
        if settings.FORUMS_PAGE_CACHE_SECONDS and _visitor_request(request):
            key = _cache_key(request, site_version())
            cached = cache.get(key)
            if cached is not None:
                return cached
            response = get_response(request)
            if (
                response.status_code == 200
                and not response.cookies
                and not getattr(response, "streaming", False)
                and response.get("Content-Type", "").startswith("text/html")
                and "private" not in response.get("Cache-Control", "")
            ):
                cache.set(key, response, settings.FORUMS_PAGE_CACHE_SECONDS)
            return response
        response = get_response(request)
        # Only members change anything; a visitor's POST is refused or sent to login.
        user = getattr(request, "user", None)
        if request.method == "POST" and response.status_code < 400 and user and user.is_authenticated:
            bump_site_version()
        return response

    return middleware
