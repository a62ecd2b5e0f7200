import zoneinfo

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.utils import timezone


class MemberMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, with `request.user` the user itself rather than
    a SimpleLazyObject that loads it on first use.

    Every request that gets this far loads its user anyway (member_time_zone asks
    whether they are a member), and each of the hundreds of reads of `request.user` on
    a member's page (the templates, each post's actions, the permission rules) went
    through the lazy object's __getattribute__, a caught AttributeError and
    __getattr__: about 600 calls on a thread page of 50 posts. auth.login() and
    auth.logout() set `request.user` themselves, as before.
    """

    def process_request(self, request):
        super().process_request(request)
        request.user = auth.get_user(request)


def member_time_zone(get_response):
    """Show times in the member's own time zone (visitors see UTC)."""

    def middleware(request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware
