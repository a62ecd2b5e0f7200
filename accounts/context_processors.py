import functools

from django.core.cache import cache

from config.page_cache import site_version

from .models import Sponsor


def sponsor_slot(request):
    """The sponsor message for pages that show one: looked up only when a page asks,
    and never for Star Members, who see no ads."""

    @functools.cache
    def current_sponsor():
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_star:
            return None
        # Cached briefly (a sponsor's dates are checked again each minute), and as a
        # one-item tuple so that "no sponsor" is cached too.
        (sponsor,) = cache.get_or_set(
            f"sponsor:{site_version()}", lambda: (Sponsor.objects.current().first(),), 60
        )
        return sponsor

    return {"sponsor": current_sponsor}
