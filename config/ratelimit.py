"""Rate limits for what a member or visitor may do often: posting, alerts, private
messages and search (FORUMS_RATE_LIMITS). allauth limits signup, login and password
resets itself (ACCOUNT_RATE_LIMITS); `allauth_too_many_requests` gives its refusals
the same page and Retry-After header as ours.

Counts live in the cache, one key per (action, member or IP, window), raised with the
cache's atomic `incr`, so they hold across gunicorn workers and app servers when the
cache is Redis. allauth's own limiter is not reused: its public `consume` reads only
allauth's settings, and it cannot say how long a refused client must wait.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

logger = logging.getLogger(__name__)

TOO_OFTEN = gettext_noop("You're doing that too often; try again in {wait}.")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# Waits are counted phrases ("1 second", "2 seconds") put into the messages that
# refuse, so that each language gets its own plural forms of the unit.
def seconds_phrase(count: int) -> str:
    return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}


def minutes_phrase(count: int) -> str:
    return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}


def hours_phrase(count: int) -> str:
    return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}


class RateLimited(Exception):
    """Refused by a rate limit; the client may try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(_(TOO_OFTEN).format(wait=seconds_phrase(self.retry_after)))


class PostingPaused(PermissionDenied):
    """Flood control: the member may write again after `retry_after` seconds (shown with
    HTTP 429 and Retry-After). accounts.standing decides when a member is paused."""

    def __init__(self, message: str, *, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


def parse_rates(text: str | None) -> list[tuple[int, int]]:
    """"6/m,60/h" -> [(6, 60), (60, 3600)]: at most N requests per period. The syntax
    is allauth's ("5/300s", "20/m/ip"); a third part (who is counted) is ignored here."""
    rates = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        amount, period = part.strip().split("/")[:2]
        multiple = period[:-1]
        rates.append((int(amount), int(float(multiple or 1) * _UNITS[period[-1]])))
    return rates


def client_ip(request) -> str:
    """The client's address as allauth sees it (honouring ALLAUTH_TRUSTED_PROXY_COUNT),
    so that every limit counts the same visitor the same way."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return "unknown"


def _who(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"member:{user.pk}"
    return f"ip:{client_ip(request)}"


def consume(request, action: str) -> None:
    """Count one `action` (a key of FORUMS_RATE_LIMITS) by this member, or by this IP
    for a visitor; raise RateLimited once any of the action's windows is full.

    Windows are fixed (aligned to the clock), which keeps each check to two cache
    calls. An unreachable cache lets the request through: a limit must not take the
    site down with Redis.
    """
    rates = parse_rates(settings.FORUMS_RATE_LIMITS.get(action))
    who = _who(request)
    now = time.time()
    wait = 0
    for amount, period in rates:
        window = int(now // period)
        key = f"ratelimit:{action}:{period}:{who}:{window}"
        try:
            cache.add(key, 0, timeout=period + 1)
            try:
                count = cache.incr(key)
            except ValueError:
                # The key expired between add() and incr().
                cache.set(key, 1, timeout=period + 1)
                count = 1
        except Exception:
            logger.warning("Rate limit %s not checked: the cache failed", action, exc_info=True)
            continue
        if count is not None and count > amount:
            wait = max(wait, math.ceil((window + 1) * period - now))
    if wait:
        raise RateLimited(wait)


def with_retry_after(response, refusal: RateLimited | PostingPaused | None):
    """Add the Retry-After header to a response that shows a rate-limit refusal."""
    if refusal is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def too_many_requests(request, refusal: RateLimited):
    """The 429 page, in the site layout, for refusals that have no form to show them on."""
    response = render(request, "429.html", {"message": str(refusal)}, status=429)
    return with_retry_after(response, refusal)


# allauth names its limits after actions; its views reach our 429 page knowing only
# the request, so the URL says which limit refused it.
_ALLAUTH_ACTIONS = {
    "account_login": "login",
    "account_signup": "signup",
    "account_reset_password": "reset_password",
    "account_reset_password_from_key": "reset_password_from_key",
    "account_change_password": "change_password",
    "account_set_password": "change_password",
    "account_email": "manage_email",
    "account_reauthenticate": "reauthenticate",
    "account_request_login_code": "request_login_code",
    "account_confirm_login_code": "login_failed",
}


def allauth_too_many_requests(request):
    """handler429 for allauth (config/urls.py): our 429 page. The wait shown is the
    longest window of the action's limits, which is when a slot is certain to be free."""
    from allauth.account import app_settings

    limits = app_settings.RATE_LIMITS
    match = getattr(request, "resolver_match", None)
    action = _ALLAUTH_ACTIONS.get(match.url_name if match else None)
    if action in limits:
        texts = [limits[action]]
    else:
        texts = [text for text in limits.values() if text]
    periods = [period for text in texts for _amount, period in parse_rates(text)]
    return too_many_requests(request, RateLimited(max(periods, default=60)))
