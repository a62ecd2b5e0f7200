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
    Cached under the site version, so an edit in the admin shows on the next page."""
    return cache.get_or_set(f"chrome:{site_version()}", _chrome, CHROME_SECONDS)
