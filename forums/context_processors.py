from django.core.cache import cache

from config.page_cache import SiteCopy, site_version

from .models import Community, Forum, Section

CHROME_SECONDS = 300


def _chrome():
    return {
        "community": Community.current(),
        "nav_forums": list(Forum.objects.for_navigation()),
        "nav_sections": list(Section.objects.for_navigation()),
    }


# This process's copy of the chrome of the current site version: taken from the shared
# cache on every request, it was unpickled each time (the site's row and the
# navigation's forums and sections as model instances).
_CHROME = SiteCopy(CHROME_SECONDS)


def site_chrome(request):
    """The header every page shows: the site's words and the navigation, from the seeds.
    Cached under the site version, so an edit in the admin shows on the next page; the
    header's HTML is cached under the same version (templates/includes/header.html)."""
    version = site_version()
    return {
        **_CHROME.get(version, lambda version: cache.get_or_set(f"chrome:{version}", _chrome, CHROME_SECONDS)),
        "chrome_version": version,
        "chrome_seconds": CHROME_SECONDS,
    }
