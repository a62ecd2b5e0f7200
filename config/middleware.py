from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse


def limit_request_body(get_response):
    """Refuse oversized request bodies with 413 before anything reads them.

    Posts are at most 50,000 characters, so 1 MB is generous; only the settings page,
    which may carry an avatar, gets more.
    """
    upload_path = reverse("members:settings")

    def middleware(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = (
            settings.FORUMS_MAX_UPLOAD_BYTES
            if request.path == upload_path
            else settings.FORUMS_MAX_REQUEST_BYTES
        )
        if length > limit:
            body = render_to_string("413.html", {"limit_mb": limit // (1024 * 1024)})
            response = HttpResponse(body, status=413)
            response["Connection"] = "close"
            return response
        return get_response(request)

    return middleware
