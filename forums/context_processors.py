import time

from django.conf import settings
from django.core.cache import cache

from config.page_cache import site_version

from .models import Community, Forum, Section

CHROME_SECONDS = 300


def _chrome():
    return {
        "community": Community.current(),
        "nav_forums": list(Forum.objects.for_navigation()),
        "nav_sections": list(Section.objects.for_navigation()),
    }


# This process's copy of the chrome of the current site version, and when it lapses:
# taken from the shared cache on every request, it was unpickled each time (the site's
# row and the navigation's forums and sections as model instances). One tuple, so
# that threads swap it whole.
_kept = (None, 0.0, None)


def _current_chrome(version) -> dict:
    global _kept
    kept_version, until, chrome = _kept
    now = time.monotonic()
    if kept_version != version or now >= until:
        chrome = cache.get_or_set(f"chrome:{version}", _chrome, CHROME_SECONDS)
        _kept = (version, now + CHROME_SECONDS, chrome)
    return chrome


def site_chrome(request):
    """The header every page shows: the site's words and the navigation, from the seeds.
    Cached under the site version, so an edit in the admin shows on the next page; the
    header's HTML is cached under the same version (templates/includes/header.html)."""
    version = site_version()
    return {
        **_current_chrome(version),
        "chrome_version": version,
        "chrome_seconds": CHROME_SECONDS,
        "fragment_cache": settings.FORUMS_FRAGMENT_CACHE,
    }
