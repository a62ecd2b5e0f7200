"""Gunicorn settings for Grassroots: `gunicorn -c config/gunicorn.conf.py`.

Every value can be changed from the environment (the systemd unit reads
/etc/grassroots/grassroots.env), so the file itself never needs editing on a server.
"""

import os

wsgi_app = "config.wsgi:application"

# A TCP address for `make serve`; the systemd unit binds a Unix socket that nginx uses.
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")]


def _cpu_count() -> int:
    # The CPUs this process may actually use (containers and systemd's CPUAffinity),
    # not every CPU the machine has.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# Pages spend most of their time waiting on PostgreSQL, so two sync workers per CPU
# (plus one) keep the CPUs busy. The cap matters because every worker holds its own
# database connection: workers x app servers must stay below PostgreSQL's
# max_connections (100 by default), with room for the task worker and cron jobs.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * _cpu_count() + 1, 16)))
worker_class = "sync"

# A request still running after `timeout` seconds is a bug or a stuck query: the
# worker is killed and replaced rather than left to pile up requests behind it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On a restart or HUP, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# nginx keeps connections to us open between requests.
keepalive = 5
# Recycling workers now and then bounds the damage of any slow memory leak; the
# jitter keeps them from all restarting at the same moment.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

# Heartbeat files on tmpfs: a disk stalled by a backup must not get workers killed.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Gunicorn 25+ opens a control socket in the service user's home; signals (HUP to
# reload, TERM to stop) already do what we need, and two instances on one machine
# would fight over the same socket path.
control_socket_disable = True

# Only the local nginx may claim the original client's scheme and address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log on stdout, errors on stderr; journald keeps both under systemd.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The combined format plus the time each request took, in milliseconds. The first
# field is the client's address as nginx saw it (X-Real-IP): behind nginx the peer
# is nginx itself, or nothing at all on a Unix socket.
access_log_format = '%({x-real-ip}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

production = os.environ.get("DJANGO_ENV", "development").lower() == "production"
if os.environ.get("LOG_FORMAT", "json" if production else "plain") == "json":
    # Gunicorn's own errors (worker timeouts, crashes) in the same one-line JSON as
    # the application's, so one query in the log store finds both.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "WARNING", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {
                "level": loglevel.upper(),
                "handlers": ["error_console"],
                "propagate": False,
            },
            "gunicorn.access": {
                "level": "INFO",
                "handlers": ["access_console"],
                "propagate": False,
            },
        },
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "access_console": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "stream": "ext://sys.stdout",
            },
        },
        "formatters": {
            "json": {"()": "config.logging.JSONFormatter"},
            "access": {"format": "%(message)s"},
        },
    }
