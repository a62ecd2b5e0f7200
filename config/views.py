"""Site-wide endpoints that belong to no app: the load balancer's health check."""

import logging
import secrets

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def _database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache_answers() -> None:
    # A round trip, not just a connect: a full or read-only Redis fails here too.
    # The key is per request so that app servers probing at once don't collide.
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not return the value just stored")
    finally:
        cache.delete(key)


CHECKS = {"database": _database_answers, "cache": _cache_answers}


@never_cache
@require_safe
def healthz(request):
    """Tell a load balancer whether this app server can serve pages: anyone may call it.

    200 when the database and the cache both answer; otherwise 503, naming each part
    that failed. The reason goes to the log only, since it may name hosts and users.
    """
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Health check failed: %s", name)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
