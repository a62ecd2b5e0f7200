"""Grassroots settings: one module, configured by environment variables.

Every value has a safe local default so that `make run` works on a fresh clone;
production sets DJANGO_ENV=production and the variables documented in README.md.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] or default


BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = os.environ.get("DJANGO_ENV", "development").lower() == "production"

# Production never runs with DEBUG: it would show settings and tracebacks to anyone.
DEBUG = False if PRODUCTION else env_bool("DEBUG", True)

if PRODUCTION:
    SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DJANGO_ENV=production; generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    if not os.environ.get("ALLOWED_HOSTS", "").strip():
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set when DJANGO_ENV=production "
            "(comma-separated host names, e.g. forum.example.org)."
        )
else:
    SECRET_KEY = os.environ.get(
        "SECRET_KEY", "django-insecure-local-development-key-never-use-in-production"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Always installed, so that switching TASKS_BACKEND needs no migration.
    "django_tasks_db",
    "accounts",
    "forums",
    "moderation",
    "conversations",
    # Seeding, exporting and importing a whole community: flows across the apps above.
    "community",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.limit_request_body",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.ConditionalGetWithoutTokenPages",
    # Before the page cache: visitors' cached thread pages are counted too.
    "forums.view_counts.count_thread_views",
    "config.page_cache.visitor_page_cache",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.MemberMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.refused_body_notice",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.member_time_zone",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forums.context_processors.site_chrome",
                "accounts.context_processors.sponsor_slot",
            ],
            # {% url %} with URLs kept per process (config.reversing), and
            # {% include_kept %} (config.including).
            "builtins": ["config.reversing", "config.including"],
            # {% load i18n %} loads Django's i18n tags with literal messages' translations
            # kept per process and language (config.translating). Django warns of a
            # library name used twice (templates.W003, silenced below); a test checks
            # this is the only such name.
            "libraries": {"i18n": "config.translating"},
        },
    },
]

# config.translating takes the name "i18n" on purpose (TEMPLATES above).
SILENCED_SYSTEM_CHECKS = ["templates.W003"]

# Every form, ours and allauth's, renders through this (checkbox labels without a colon).
FORM_RENDERER = "config.forms.FormRenderer"

# Database: SQLite in the project folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, converting each query's placeholders once (config/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    # Connections are kept between requests (DB_CONN_MAX_AGE) on SQLite too: a new
    # one reads and parses the whole schema before its first query, about 0.9 ms,
    # which every page that asks the database paid on each request. WAL lets readers
    # carry on while one writer commits. IMMEDIATE transactions take the write lock
    # up front, so concurrent posters queue (for up to `timeout` seconds) instead of
    # failing with "database is locked" halfway through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS", True):
    # The lists every member keeps asking for are prepared on the server and planned
    # once (config/prepared.py says which, and why not the rest). Off
    # (DB_PREPARED_STATEMENTS=false) behind a pooler that cannot follow prepared
    # statements: PgBouncer in transaction mode before 1.21, or without
    # max_prepared_statements.
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": 5,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every app server), else local memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis, except that a lock taken while Redis is down is granted.
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "grassroots"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # An unreachable Redis fails a request in seconds instead of holding a
                # web worker until the OS gives up on the connection.
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # The cache only saves work: with Redis down every read is a miss and
                # every write is skipped (and logged), so pages still serve. Sessions
                # live in the database, so nobody is logged out either.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "grassroots",
        }
    }
# The parts of posts that every reader sees alike (forums.fragments): in Redis with the
# rest, else in each process's memory, apart from the visitors' whole pages so that
# neither pushes the other out, with room for the posts of many pages (a few KB each).
CACHES["fragments"] = (
    CACHES["default"]
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "grassroots-fragments",
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
)
# The header of every page (templates/includes/header.html), kept by each process in
# its own memory, with Redis or without: its key names everything it shows (the site's
# version, the language, the member's name and unread counts), so no copy is ever out
# of date, and rendering it once per process and member costs less than fetching it
# from Redis on each of their pages (a round trip per page, 0.15 ms).
CACHES["header"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "grassroots-header",
    "OPTIONS": {"MAX_ENTRIES": 300},  # some 10 KB each (the forums' navigation)
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Django's hashers, then one that only checks passwords imported from phpBB
# (accounts/hashers.py): at a member's first login Django re-hashes with the first.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.PhpbbPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "forums:home"

# Email: printed to the console unless SMTP is configured through the environment.
# The site's mail comes from DEFAULT_FROM_EMAIL under the community's name, unless
# the address is given a name of its own ("Name <address>"), see config/mail.py.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
if os.environ.get("EMAIL_HOST") or PRODUCTION:
    # Production without EMAIL_HOST hands mail to the server's own MTA on port 25.
    _smtp_host = os.environ.get("EMAIL_HOST", "localhost")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": int(os.environ.get("EMAIL_PORT", "25" if _smtp_host == "localhost" else "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", _smtp_host != "localhost"),
                "timeout": 20,
            },
        }
    }
else:
    # Django's console mailer, printing messages readable (links whole) rather than encoded.
    MAILERS = {"default": {"BACKEND": "config.mail.ConsoleBackend"}}

LANGUAGE_CODE = "en-us"
# The site's date and time formats (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Pictures in posts and messages are served by the site itself (community.views.
# picture_file: its permission check, content type and headers), never from MEDIA_URL,
# so they may live in a folder of their own or in any S3-compatible object store.
PICTURES_S3_BUCKET = os.environ.get("PICTURES_S3_BUCKET", "").strip()
if PICTURES_S3_BUCKET:
    _pictures_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PICTURES_S3_BUCKET,
            "endpoint_url": os.environ.get("PICTURES_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("PICTURES_S3_REGION") or None,
            "access_key": os.environ.get("PICTURES_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("PICTURES_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("PICTURES_S3_PREFIX", "pictures"),
            # Read through the site only: the bucket stays private, names never clash.
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _pictures_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": Path(os.environ.get("PICTURES_ROOT", BASE_DIR / "pictures")),
            # No URL: the files are not for the web server to hand out.
            "base_url": None,
        },
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "pictures": _pictures_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, whitenoise serves straight from static/ without collectstatic.
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_USE_FINDERS = not PRODUCTION

# Content Security Policy: only our own origin; no inline script anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions stay in the database: a Redis outage must not log everyone out. With Redis
# they are also kept there (cached_db: read from the cache, written to both), which
# saves every member's request its session query. Not with local memory: each worker
# would keep its own copy, which a logout through another worker leaves logged in.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)

if PRODUCTION:
    # Behind nginx (or any proxy) that terminates TLS and sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Load balancers probe app servers over plain HTTP; a redirect would read as down.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Logs go to stderr (journald under systemd). In production each record is one line
# of JSON, so an error and its traceback stay one searchable event.
_log_format = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
if _log_format not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={_log_format!r} is not one of: json, plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JSONFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": _log_format}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Replaces Django's own "django" handlers, which would print every error twice.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Background tasks (django.tasks). "immediate" runs them in the web process right
# after the response's transaction commits; "database" stores them for the
# `manage.py db_worker` process, so a slow SMTP server never holds up a page and
# nothing is lost when a web worker restarts.
_task_backends = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
_task_backend = os.environ.get("TASKS_BACKEND", "immediate").strip().lower()
if _task_backend not in _task_backends:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND={_task_backend!r} is not one of: {', '.join(_task_backends)}."
    )
TASKS = {"default": {"BACKEND": _task_backends[_task_backend]}}

# django-redis: cache errors are ignored (see CACHES) but each one is logged, with
# its traceback, to the "django_redis.cache" logger, so an outage shows in the logs.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# django-allauth
# Its emails in the community's name (community/adapters.py).
ACCOUNT_ADAPTER = "community.adapters.AccountAdapter"
# Sign-up also takes the browser's time zone (a hidden field that static/js/site.js fills).
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get(
    "ACCOUNT_EMAIL_VERIFICATION", "mandatory" if PRODUCTION else "optional"
)
# Where confirming is mandatory, a member who confirms in the browser they signed up in
# is logged in and taken on to where they were going (e.g. the reply form a visitor's
# "create a free account to reply" led from); allauth only does so within that session.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_USERNAME_MIN_LENGTH = 3
# allauth's rate limits stay on at their defaults (signup 20/m per IP, login 30/m per
# IP, 5 failed logins per account in 5 minutes, password reset 20/m per IP and 5/m per
# address); refusals get our 429 page (config/urls.py handler429). They count in the
# cache: Redis when several servers or gunicorn workers run.
# Behind nginx (deploy/nginx/) the client's address is the last X-Forwarded-For entry;
# gunicorn on a Unix socket has no REMOTE_ADDR, and without this every login is refused.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "Grassroots")

# Grassroots
FORUMS_THREADS_PER_PAGE = 30
FORUMS_REPLIES_PER_PAGE = 50
# Lines of the reply index under "Original post only" per page (about 70 KB of HTML).
FORUMS_INDEX_PER_PAGE = 200
# Search looks at the newest this many matches (ranked among themselves): a word found
# in half a million posts then costs what a rarer one does.
FORUMS_SEARCH_MAX_RESULTS = 1000
FORUMS_HOME_LATEST_THREADS = 15
FORUMS_PROFILE_RECENT_POSTS = 20
# Posts' shared HTML (forums.fragments) is cached under a digest of what it shows, so it
# never goes stale; the timeout only bounds the memory it takes.
FORUMS_FRAGMENT_CACHE = "fragments"
FORUMS_FRAGMENT_CACHE_SECONDS = 24 * 3600
# Absolute links in emails.
FORUMS_SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
FORUMS_EDIT_WINDOW_MINUTES = int(os.environ.get("FORUMS_EDIT_WINDOW_MINUTES", "60"))
# Members are new (flood and link limits) until they have this many posts and have
# been members this many hours.
FORUMS_NEW_MEMBER_POSTS = 10
FORUMS_NEW_MEMBER_HOURS = 24
FORUMS_NEW_MEMBER_SECONDS_BETWEEN_POSTS = 30
FORUMS_NEW_MEMBER_MAX_LINKS = 2
# Private messages (conversations app): pages, and flood control for new members.
FORUMS_CONVERSATIONS_PER_PAGE = 30
FORUMS_MESSAGES_PER_PAGE = 50
FORUMS_NEW_MEMBER_CONVERSATIONS_PER_HOUR = 3
FORUMS_NEW_MEMBER_SECONDS_BETWEEN_MESSAGES = 30
FORUMS_NOTIFICATIONS_PER_PAGE = 30
FORUMS_READ_CUTOFF_DAYS = 30
# Visitors' pages are cached this long (and dropped at once by any write).
FORUMS_PAGE_CACHE_SECONDS = int(os.environ.get("FORUMS_PAGE_CACHE_SECONDS", "60"))
# Community moderation (DESIGN.md section 6).
FORUMS_JURY_SIZE = 7
FORUMS_JURY_VOTES_TO_HIDE = 4
FORUMS_JURY_DEADLINE_HOURS = int(os.environ.get("FORUMS_JURY_DEADLINE_HOURS", "24"))
FORUMS_HIDDEN_POSTS_LIMIT = 5
FORUMS_HIDDEN_WINDOW_DAYS = 90
FORUMS_MODERATION_LOG_PER_PAGE = 50
FORUMS_GREATEST_HOURS = 24
# Thread views (forums.view_counts): a reader counts once per thread in this window;
# each app process adds its counts to the database after this many or this long.
FORUMS_VIEW_COUNT_WINDOW_MINUTES = 30
FORUMS_VIEW_COUNT_BATCH = int(os.environ.get("FORUMS_VIEW_COUNT_BATCH", "100"))
FORUMS_VIEW_COUNT_FLUSH_SECONDS = int(os.environ.get("FORUMS_VIEW_COUNT_FLUSH_SECONDS", "60"))
FORUMS_MAX_MENTIONS = 10
# What happens to a member's posts when they delete their account: "keep" leaves
# them up under "deleted member"; "remove" blanks them (placeholders keep the reply
# trees) and deletes the threads they started that nobody else answered.
FORUMS_DELETED_MEMBER_POSTS = os.environ.get("FORUMS_DELETED_MEMBER_POSTS", "keep").strip().lower()
if FORUMS_DELETED_MEMBER_POSTS not in {"keep", "remove"}:
    raise ImproperlyConfigured(
        f"FORUMS_DELETED_MEMBER_POSTS={FORUMS_DELETED_MEMBER_POSTS!r} is not one of: keep, remove."
    )
# Who may start a thread with a poll: "members" (anyone who may post) or "star" (Star
# Members and staff). Anyone in good standing may vote.
FORUMS_POLLS_FOR = os.environ.get("FORUMS_POLLS_FOR", "members").strip().lower()
if FORUMS_POLLS_FOR not in {"members", "star"}:
    raise ImproperlyConfigured(f"FORUMS_POLLS_FOR={FORUMS_POLLS_FOR!r} is not one of: members, star.")
# Rate limits (config/ratelimit.py), per member, or per IP for visitors, in allauth's
# syntax: at most N per period. Refusals are shown with HTTP 429 and Retry-After.
FORUMS_RATE_LIMITS = {
    "post": "6/m,60/h",  # new threads and replies
    "alert": "3/m,20/h",
    "message": "10/m,100/h",  # private messages: new conversations and answers
    "search": "30/m,300/h",
    # Password attempts on "Delete my account": a borrowed session must not guess on.
    "account_delete": "5/15m,20/d",
}
# Pictures in posts and messages (forums.pictures): the size of one file, how many a
# post or message holds, and how many bytes a member may upload in 24 hours (more for
# Star Members: a perk). Larger images are refused, not shrunk: Pillow would have to
# decode them whole first (a 40-megapixel RGBA picture is 160 MB of memory).
FORUMS_PICTURE_MAX_BYTES = int(os.environ.get("FORUMS_PICTURE_MAX_BYTES", 8 * 1024 * 1024))
FORUMS_PICTURES_PER_POST = int(os.environ.get("FORUMS_PICTURES_PER_POST", "4"))
FORUMS_PICTURE_BYTES_PER_DAY = int(os.environ.get("FORUMS_PICTURE_BYTES_PER_DAY", 40 * 1024 * 1024))
FORUMS_PICTURE_BYTES_PER_DAY_STAR = int(
    os.environ.get("FORUMS_PICTURE_BYTES_PER_DAY_STAR", 200 * 1024 * 1024)
)
# Every frame of an animation counts.
FORUMS_PICTURE_MAX_PIXELS = 40_000_000
FORUMS_PICTURE_MAX_FRAMES = 300
FORUMS_PICTURE_DISPLAY_WIDTH = 1600
FORUMS_PICTURE_THUMBNAIL_SIZE = 240
# Request bodies over this size are refused with 413 before Django parses them;
# the settings page may carry an avatar, so it gets more room, and the forms that
# take pictures room for a full set of them.
FORUMS_MAX_REQUEST_BYTES = 1024 * 1024
FORUMS_MAX_UPLOAD_BYTES = 3 * 1024 * 1024
FORUMS_MAX_PICTURES_REQUEST_BYTES = (
    FORUMS_PICTURE_MAX_BYTES * FORUMS_PICTURES_PER_POST + FORUMS_MAX_REQUEST_BYTES
)
# The form's fields other than files; uploaded files go to memory or a temporary file
# (FILE_UPLOAD_MAX_MEMORY_SIZE) and are limited above.
DATA_UPLOAD_MAX_MEMORY_SIZE = FORUMS_MAX_UPLOAD_BYTES
