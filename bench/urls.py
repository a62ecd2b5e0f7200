from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def ceiling(request):
    """The fastest page Django can serve here: no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("__ceiling__", ceiling), *site_urlpatterns]
