"""Production settings for `make soak` (bench/soak.py), with the per-person limits
lifted: twenty members posting for minutes from one address would trip the posting,
login and new-member flood limits, which exist to stop one person, not to measure
the server. Everything else is exactly what production runs.
"""

from config import settings as _site
from config.settings import *  # noqa: F401,F403

# An empty rate is no limit (config/ratelimit.py); False turns allauth's off.
FORUMS_RATE_LIMITS = dict.fromkeys(getattr(_site, "FORUMS_RATE_LIMITS", {}), "")
ACCOUNT_RATE_LIMITS = False
FORUMS_NEW_MEMBER_POSTS = 0
# Every reply notifies the thread's followers by email; the soak has no mail server,
# and an in-memory outbox would grow with every post and hide a real leak.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
