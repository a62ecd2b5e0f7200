"""A posted form on its way to a service. Every writing view refuses the same way: the
rate limit first, then the service's own refusals, each shown next to the form with
its status, so that nothing the member typed is lost:

    sub = Submission(request, ThreadForm(request.POST or None), limit="post")
    if sub.sending:
        with sub.refusals():
            thread = services.thread_create(forum=forum, author=request.user, **sub.form.cleaned_data)
            return redirect(thread)
    return sub.render("forums/thread_form.html", {"forum": forum})

The view calls its service itself, inside `refusals()`; a refusal ends the block and
the view goes on to render the form.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render

from config import ratelimit


class Submission:
    """A posted form on its way to a service: whether the member asked for a preview or
    to send, and the refusals of the send, shown next to the form with their status."""

    def __init__(self, request, form, *, limit: str | None = None):
        """A valid POST without "preview" is to be sent; it first counts one `limit`
        action (a key of FORUMS_RATE_LIMITS), and once the limit is full it is refused
        here (429, with Retry-After) and not sent."""
        self.request = request
        self.form = form
        self.status = 200
        self.limited = None
        valid = request.method == "POST" and form.is_valid()
        self.previewing = valid and "preview" in request.POST
        self.sending = valid and not self.previewing
        if self.sending and limit:
            try:
                ratelimit.consume(request, limit)
            except ratelimit.RateLimited as refusal:
                self.limited = refusal
                self._refuse(None, str(refusal), 429)
                self.sending = False

    @contextmanager
    def refusals(self, *, denied_on: str | None = None):
        """Run the block that sends; a refusal is added to the form and ends the block:
        invalid (400) or paused by flood control (429, with Retry-After).

        Other PermissionDenied refusals reach the 403 page, unless `denied_on` names the
        field to show them on (NON_FIELD_ERRORS for the form as a whole): then 403 with
        the form, so that nothing typed is lost.
        """
        try:
            yield
        except ValidationError as refusal:
            self._refuse(None, refusal, 400)
        except ratelimit.PostingPaused as pause:
            self.limited = pause
            self._refuse(None, str(pause), 429)
        except PermissionDenied as refusal:
            if denied_on is None:
                raise
            self._refuse(denied_on, str(refusal), 403)

    def _refuse(self, field, error, status):
        self.form.add_error(field, error)
        self.status = status

    def render(self, template: str, context: dict):
        """The form page with `context`: 200, 400 for an invalid form, or the refusal's
        status, with Retry-After after a rate-limit refusal."""
        status = 400 if self.status == 200 and self.form.errors else self.status
        response = render(self.request, template, {"form": self.form, **context}, status=status)
        return ratelimit.with_retry_after(response, self.limited)
