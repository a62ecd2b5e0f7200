from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import defaults

BODY_TOO_LARGE = gettext_noop(
    "What you sent is larger than {limit_mb} MB, so it was not saved. Shorten your text "
    "(posts can be up to 50,000 characters) or choose a smaller picture; your browser's "
    "Back button should bring back what you wrote."
)
MEGABYTE = 1024 * 1024


class ConditionalGetWithoutTokenPages(ConditionalGetMiddleware):
    """Django's ConditionalGetMiddleware, which hashes each GET's page into an ETag,
    except for pages that carry a CSRF token (every member's page, and every form): the
    token is masked anew for each response, so such a page is never the same twice and
    its ETag could never match. Hashing it cost about 0.1 ms per 50 KB of page. Such a
    response sets the CSRF cookie: CsrfViewMiddleware renews it whenever the page used
    the token. A page whose view sets its own ETag or Last-Modified is answered as
    Django does."""

    def process_response(self, request, response):
        if (
            settings.CSRF_COOKIE_NAME in response.cookies
            and not response.has_header("ETag")
            and not response.has_header("Last-Modified")
        ):
            return response
        return super().process_response(request, response)


def accepts_pictures(view):
    """Mark a view whose form takes pictures: its requests may carry a full set of them
    (FORUMS_MAX_PICTURES_REQUEST_BYTES) rather than FORUMS_MAX_REQUEST_BYTES."""
    view.accepts_pictures = True
    return view


def _body_limit(request, upload_path: str) -> int:
    if request.path == upload_path:
        return settings.FORUMS_MAX_UPLOAD_BYTES
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return settings.FORUMS_MAX_REQUEST_BYTES
    if getattr(view, "accepts_pictures", False):
        return settings.FORUMS_MAX_PICTURES_REQUEST_BYTES
    return settings.FORUMS_MAX_REQUEST_BYTES


def limit_request_body(get_response):
    """Refuse oversized request bodies with 413 before anything reads them, showing the
    page that was sent from, with its form and the reason (refused_body_notice).

    Posts are at most 50,000 characters, so 1 MB is generous; only the settings page,
    which may carry an avatar, and the forms that take pictures (`accepts_pictures`)
    get more. The body is never read here: the request goes
    on as a GET of the same address, so the view shows its form. Where that is no form
    page (a redirect, an action that only takes POST), a plain 413 page answers instead.
    No Connection header is set: it is hop-by-hop, which WSGI applications must not
    send (Django's development server fails on it); the servers deal with the unread body.
    """
    upload_path = reverse("members:settings")

    def middleware(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # Only bodies over the smallest limit cost a look at the URL.
        if length <= settings.FORUMS_MAX_REQUEST_BYTES:
            return get_response(request)
        limit = _body_limit(request, upload_path)
        if length <= limit:
            return get_response(request)
        limit_mb = limit // MEGABYTE
        request.refused_body_mb = limit_mb
        request.method = request.META["REQUEST_METHOD"] = "GET"
        response = get_response(request)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            response.status_code = 413
            return response
        return HttpResponse(render_to_string("413.html", {"limit_mb": limit_mb}), status=413)

    return middleware


def bad_request(request, exception):
    """handler400. The forms that take pictures accept bodies up to
    FORUMS_MAX_PICTURES_REQUEST_BYTES, so text alone may pass DATA_UPLOAD_MAX_MEMORY_SIZE
    there: that gets the 413 page, which says why, rather than a bare 400."""
    if isinstance(exception, RequestDataTooBig):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // MEGABYTE
        return HttpResponse(render_to_string("413.html", {"limit_mb": limit_mb}), status=413)
    return defaults.bad_request(request, exception)


def refused_body_notice(get_response):
    """Say why on the page limit_request_body shows instead of saving an oversized form
    (after MessageMiddleware, so the page prints it with its other messages)."""

    def middleware(request):
        limit_mb = getattr(request, "refused_body_mb", None)
        if limit_mb is not None:
            messages.error(request, _(BODY_TOO_LARGE).format(limit_mb=limit_mb))
        return get_response(request)

    return middleware
