from functools import cache

from .models import Sponsor


def sponsor_slot(request):
    """The sponsor message for pages that show one: looked up only when a page asks,
    and never for Star Members, who see no ads."""

    @cache
    def current_sponsor():
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_star:
            return None
        return Sponsor.objects.current().first()

    return {"sponsor": current_sponsor}
