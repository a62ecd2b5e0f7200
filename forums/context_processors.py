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
    header's HTML is cached under the same version and `chrome_reader`
    (templates/includes/header.html)."""
    version = site_version()
    return {
        **_CHROME.get(version, lambda version: cache.get_or_set(f"chrome:{version}", _chrome, CHROME_SECONDS)),
        "chrome_version": version,
        "chrome_seconds": CHROME_SECONDS,
        "chrome_reader": _header_reader(getattr(request, "user", None)),
    }


def _header_reader(user) -> tuple:
    """What the header shows of the reader: for a member their name, unread counts and
    Star badge; for a visitor nothing. Looked up here, not by the header's {% cache %}:
    each of these names that a visitor lacks cost the template language a failed
    lookup, 40 µs of every visitor's page in all."""
    if user is None or not user.is_authenticated:
        return ()
    return (
        user.pk, user.username, user.public_name, user.unread_notification_count, user.unread_message_count,
        user.is_star,
    )
