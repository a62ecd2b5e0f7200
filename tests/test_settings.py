"""The settings module, exercised the way an operator would: in a fresh process."""

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.processes import ROOT, run_python


def _run(code: str, **env: str):
    return run_python("-c", code, timeout=60, **env)


def test_default_database_is_sqlite_in_wal_mode_with_busy_timeout(tmp_path):
    result = _run(
        "import django; django.setup();"
        "from django.db import connection;"
        "c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0]);"
        "print(c.execute('PRAGMA busy_timeout').fetchone()[0])",
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    journal_mode, busy_timeout = result.stdout.split()
    assert journal_mode == "wal"
    assert int(busy_timeout) >= 5000


# Three requests through Django's WSGI handler, as a gunicorn worker serves them, each
# asking the database (the health check): how many connections were opened.
SERVE_THREE_REQUESTS = """
import os, sys
if sys.argv[1] == "default":
    os.environ.pop("DB_CONN_MAX_AGE")
import django; django.setup()
from django.core.handlers.wsgi import WSGIHandler
from django.db.backends.signals import connection_created
from django.test import RequestFactory
opened = []
connection_created.connect(lambda sender, connection, **kwargs: opened.append(connection))
handler = WSGIHandler()
for _ in range(3):
    response = handler(RequestFactory().get("/healthz", headers={"host": "127.0.0.1"}).environ, lambda status, headers: None)
    assert b'"ok"' in b"".join(response), b"".join(response)
    response.close()
print(len(opened))
"""


@pytest.mark.parametrize("max_age, connections", [("default", 1), ("0", 3)])
def test_a_worker_keeps_its_sqlite_connection_between_requests(tmp_path, max_age, connections):
    """A new SQLite connection reads the whole schema before its first query (about a
    millisecond a request); by default a worker opens one and keeps it, and
    DB_CONN_MAX_AGE=0 still opens one per request."""
    result = run_python(
        "-c", SERVE_THREE_REQUESTS, max_age, timeout=60,
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}", DB_CONN_MAX_AGE=max_age,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == connections


def test_redis_url_switches_the_cache_to_redis():
    result = _run(
        "import django; django.setup(); from django.conf import settings;"
        "from django.core.cache import caches; from django_redis.cache import RedisCache;"
        "print(settings.CACHES['default']['BACKEND'], isinstance(caches['default'], RedisCache))",
        REDIS_URL="redis://127.0.0.1:6379/9",
    )
    assert result.stdout.strip() == "config.cache.RedisCache True"


POSTGRES_URL = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.parametrize(("switch", "prepared"), [("", 1), ("false", 0)])
def test_db_prepared_statements_switches_preparing_on_postgresql(db, switch, prepared):
    # The test run's database, for its tables: the process only reads.
    database = urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/" + connection.settings_dict["NAME"]))
    result = _run(
        "import django; django.setup(); from django.db import connection;"
        "from forums.querysets import listed_sections;"
        "[listed_sections() for _ in range(8)];"
        "c = connection.cursor();"
        "c.execute('SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s', ['%forums_section%']);"
        "print(c.fetchone()[0])",
        DATABASE_URL=database, DB_PREPARED_STATEMENTS=switch,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == prepared


def test_production_requires_a_secret_key():
    result = _run("import django; django.setup()", DJANGO_ENV="production", ALLOWED_HOSTS="forum.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_python(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", timeout=60,
        DJANGO_ENV="production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        ALLOWED_HOSTS="forum.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrations_match_the_models():
    # In the test run's own environment: the check compares with the database it names.
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
