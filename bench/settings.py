"""Production settings plus the bare-Django ceiling page the benchmark compares with."""

import os

from config import settings as _site
from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
# wrk asks for the same search thousands of times a second from one address; the
# per-person limits exist to stop one person, not to measure the server.
FORUMS_RATE_LIMITS = dict.fromkeys(_site.FORUMS_RATE_LIMITS, "")
# --writes posts a reply a second, each running its notification task in the web
# process; one INFO line per task state would bury the results.
LOGGING = {**_site.LOGGING, "loggers": {**_site.LOGGING["loggers"], "django.tasks": {"level": "WARNING"}}}
# --no-view-counts: the same site without counting thread views, to measure what
# counting costs visitors (whose cached pages otherwise do almost nothing else).
if os.environ.get("BENCH_VIEW_COUNTS") == "off":
    MIDDLEWARE = [name for name in _site.MIDDLEWARE if name != "forums.view_counts.count_thread_views"]
