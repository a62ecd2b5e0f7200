import functools

from config.page_cache import SiteCopy, site_version

from .models import Sponsor

# A sponsor's dates are checked again each minute, by each process: kept in the shared
# cache instead, the sponsor was unpickled on every page.
_SPONSOR = SiteCopy(60)


def sponsor_slot(request):
    """The sponsor message for pages that show one: looked up only when a page asks,
    and never for Star Members, who see no ads."""

    @functools.cache
    def current_sponsor():
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_star:
            return None
        return _SPONSOR.get(site_version(), lambda _version: Sponsor.objects.current().first())

    return {"sponsor": current_sponsor}
