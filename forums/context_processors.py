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


def site_chrome(request):
    """The header every page shows: the site's words and the navigation, from the seeds.
    Cached under the site version, so an edit in the admin shows on the next page; the
    header's HTML is cached under the same version (templates/includes/header.html)."""
    version = site_version()
    return {
        **cache.get_or_set(f"chrome:{version}", _chrome, CHROME_SECONDS),
        "chrome_version": version,
        "chrome_seconds": CHROME_SECONDS,
        "fragment_cache": settings.FORUMS_FRAGMENT_CACHE,
    }
