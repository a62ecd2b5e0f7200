import os

from django.http import HttpResponse
from django.template import loader
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def ceiling(request):
    """The fastest page Django can serve here: no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


def member_ceiling(request):
    """The fastest page a logged-in member can get: what every page of theirs does first,
    through the same middleware (the session and the member loaded from the session
    store, as SESSION_ENGINE says), then no template and no other query."""
    if not request.user.is_authenticated:
        return HttpResponse(b"not logged in", content_type="text/plain", status=403)
    return HttpResponse(request.user.get_username().encode(), content_type="text/plain")


if os.environ.get("BENCH_TEMPLATES") == "off":
    # `bench/run.py --no-template`: every page made with django.shortcuts.render() is
    # answered with an empty body. What the view did before (its queries, and the posts
    # and rows forums.fragments assembles) still counts; what only the template asks
    # for (the header, a lazy queryset, a {% url %}) does not, nor sending the page. So
    # the figures are more than any faster rendering could reach.
    loader.render_to_string = lambda *args, **kwargs: ""


urlpatterns = [path("__ceiling__", ceiling), path("__member_ceiling__", member_ceiling), *site_urlpatterns]
