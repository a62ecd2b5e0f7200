"""Running the site in production: settings, gunicorn and whitenoise, the health check,
structured logs, background tasks with a durable backend, and the deploy/ files.

Most of these run a fresh process the way an operator would, because production
settings are read once, at start-up.
"""

import http.client
import json
import logging
import os
import re
import runpy
import socket
import subprocess
import sys
import time

import pytest
from django.core.management import get_commands
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.template import engines
from django.urls import reverse

from config.logging import JSONFormatter
from tests.processes import ROOT, environment, run_python

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "forum.example.org",
}


# Production settings.


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_python("-c", "import django; django.setup()", DJANGO_ENV="production",
                        SECRET_KEY=PRODUCTION["SECRET_KEY"], ALLOWED_HOSTS=" ")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DJANGO_ENV=production" in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = run_python("-c", "import django; django.setup()", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_never_runs_with_debug_even_when_asked():
    result = run_python(
        "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        **PRODUCTION, DEBUG="true",
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("redis_url, engine", [
    ("redis://127.0.0.1:6379/0", "django.contrib.sessions.backends.cached_db"),
    ("", "django.contrib.sessions.backends.db"),
])
def test_sessions_are_cached_only_in_a_cache_every_server_shares(redis_url, engine):
    """With Redis a member's session is read from it (written to the database too); with
    each worker's own memory a logout through one worker would leave the other's copy."""
    result = run_python(
        "-c", "import django; django.setup(); from django.conf import settings; print(settings.SESSION_ENGINE)",
        REDIS_URL=redis_url,
    )
    assert result.stdout.strip() == engine, result.stderr


# Content Security Policy.


def test_a_script_nonce_in_a_page_matches_the_policy_header(rf, db):
    """Templates get the request's nonce from the csp context processor, and the
    policy names the same nonce, so a script that carries it runs and no other does."""
    page = engines["django"].from_string('<script nonce="{{ csp_nonce }}" src="/static/x.js"></script>')
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse(page.render(request=request)))

    response = middleware(rf.get("/"))

    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    policy = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'nonce-{nonce}'" in policy
    assert "unsafe-inline" not in policy


def test_pages_send_a_policy_without_inline_script(client, db):
    policy = client.get(reverse("forums:home")).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy


def test_templates_have_nothing_inline_that_the_policy_would_block():
    """Inline scripts need the nonce; inline styles and event handlers are refused
    by the policy outright, so they would silently not work."""
    problems = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag and "csp_nonce" not in tag:
                problems.append(f"{template.name}: {tag} has no nonce")
        if re.search(r"<style\b|\sstyle=\"|\son[a-z]+=\"", text):
            problems.append(f"{template.name}: inline style or event handler")
    assert problems == []


# Health check.


def test_healthz_says_ok_with_one_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-store" in response["Cache-Control"]


def test_healthz_names_the_cache_when_redis_is_down(client, db, settings, caplog):
    pytest.importorskip("django_redis")
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "cache": "unavailable"}}
    assert "Health check failed: cache" in caplog.text


def test_healthz_names_the_database_when_it_is_down():
    script = (
        "import django; django.setup();"
        "from django.test import Client; from django.test.utils import setup_test_environment;"
        "setup_test_environment(); r = Client().get('/healthz');"
        "print(r.status_code, r.content.decode())"
    )
    result = run_python("-c", script, DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body)["checks"] == {"database": "unavailable", "cache": "ok"}
    assert "Health check failed: database" in result.stderr


def test_healthz_answers_only_get_and_head(client, db):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# Logs.


def test_json_log_record_is_one_line_with_request_and_traceback(rf):
    try:
        1 / 0
    except ZeroDivisionError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/f/news/",),
            sys.exc_info(), extra={"status_code": 500, "request": rf.get("/f/news/?page=2")},
        )

    line = JSONFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Internal Server Error: /f/news/"
    assert entry["method"] == "GET" and entry["path"] == "/f/news/?page=2"
    assert entry["status_code"] == 500
    assert "ZeroDivisionError: division by zero" in entry["exception"]


# Gunicorn and whitenoise.


def _gunicorn_settings(**env: str) -> dict:
    saved = dict(os.environ)
    try:
        for name in ("WEB_CONCURRENCY", "DJANGO_ENV", "LOG_FORMAT"):
            os.environ.pop(name, None)
        os.environ.update(env)
        return runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_gunicorn_workers_follow_the_cpu_count():
    cpus = len(os.sched_getaffinity(0))
    assert _gunicorn_settings()["workers"] == min(2 * cpus + 1, 16)
    assert _gunicorn_settings(WEB_CONCURRENCY="3")["workers"] == 3
    assert "logconfig_dict" in _gunicorn_settings(DJANGO_ENV="production")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "forum.example.org", **headers})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_gunicorn_serves_the_site_and_its_static_files_in_production(empty_sqlite, tmp_path):
    port = _free_port()
    static_root = tmp_path / "static"
    env = {
        **PRODUCTION, "DATABASE_URL": empty_sqlite, "STATIC_ROOT": str(static_root),
        "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
    }
    collected = run_python("manage.py", "collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr

    out, err = tmp_path / "access.log", tmp_path / "error.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"],
            cwd=ROOT, env=environment(**env), stdout=stdout, stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = _get(port, "/healthz")
                break
            except OSError:
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        # The load balancer's probe: plain HTTP, answered rather than redirected.
        assert health.status == 200
        assert json.loads(health.body)["status"] == "ok"

        plain = _get(port, "/")
        assert plain.status == 301
        assert plain.getheader("Location") == "https://forum.example.org/"

        page = _get(port, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
        assert page.status == 200
        assert page.getheader("Strict-Transport-Security").startswith("max-age=31536000")
        assert "script-src 'self'" in page.getheader("Content-Security-Policy")
        cookies = [value for name, value in page.getheaders() if name.lower() == "set-cookie"]
        assert cookies and all("Secure" in cookie for cookie in cookies)

        manifest = json.loads((static_root / "staticfiles.json").read_text())
        stylesheet = manifest["paths"]["css/site.css"]
        assert stylesheet != "css/site.css"
        static = _get(port, f"/static/{stylesheet}",
                      **{"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})
        assert static.status == 200
        assert static.getheader("Content-Encoding") == "gzip"
        assert "max-age=315360000" in static.getheader("Cache-Control")

        assert _get(port, "/", Host="attacker.example").status == 400

        refused = _post_oversized(
            port, "/accounts/login/", Host="forum.example.org", **{"X-Forwarded-Proto": "https"}
        )
        assert refused.status == 413
        assert 'name="login"' in refused.body and "larger than 1 MB" in refused.body
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert '"GET /healthz HTTP/1.1" 200' in out.read_text()
    errors = [json.loads(line) for line in err.read_text().splitlines() if line.strip()]
    assert any(
        entry["logger"] == "django.security.DisallowedHost" and entry["level"] == "ERROR"
        for entry in errors
    )


def _post_oversized(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    """A form POST of 1 MB and a bit, as a browser sends it."""
    body = b"login=ann&password=" + b"x" * (1024 * 1024 + 1)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("POST", path, body=body, headers={
        "Host": headers.pop("Host", "127.0.0.1"), "Content-Type": "application/x-www-form-urlencoded",
        **headers,
    })
    response = connection.getresponse()
    response.body = response.read().decode()
    connection.close()
    return response


def test_development_server_answers_an_oversized_form_with_413_and_the_form(empty_sqlite, tmp_path):
    """`make run` serves with Django's development server, which fails on hop-by-hop
    headers such as Connection (WSGI forbids them) with a 500."""
    port = _free_port()
    err = tmp_path / "runserver.log"
    with err.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=environment(DATABASE_URL=empty_sqlite), stdout=stderr, stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(port, "/healthz", Host="127.0.0.1")
                break
            except OSError:
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.2)

        refused = _post_oversized(port, "/accounts/login/")

        assert refused.status == 413, refused.body[:2000]
        assert 'name="login"' in refused.body and 'name="password"' in refused.body  # the form
        assert "larger than 1 MB, so it was not saved" in refused.body
        assert _get(port, "/accounts/login/", Host="127.0.0.1").status == 200  # still serving
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = err.read_text()
    assert "Traceback" not in log and "Hop-by-hop" not in log, log


# Background tasks.


def test_tasks_run_in_process_unless_the_environment_says_otherwise(settings):
    assert settings.TASKS == {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    show = "import django; django.setup(); from django.conf import settings; print(settings.TASKS['default']['BACKEND'])"
    assert run_python("-c", show, TASKS_BACKEND="database").stdout.strip() == "django_tasks_db.DatabaseBackend"
    wrong = run_python("-c", show, TASKS_BACKEND="celery")
    assert wrong.returncode != 0
    assert "TASKS_BACKEND='celery' is not one of: immediate, database" in wrong.stderr


ENQUEUE_A_REPLY = """
import django
django.setup()
from django_tasks_db.models import DBTaskResult
from forums.services import reply_create
from tests.factories import MemberFactory, ThreadFactory
poster = MemberFactory(username="poster", email="poster@example.org")
thread = ThreadFactory(author=poster, title="Where is the bus?")
reply_create(author=MemberFactory(username="answerer"), parent=thread.posts.get(number=0),
             body="Round the corner.")
waiting = DBTaskResult.objects.filter(status="READY", task_path="forums.tasks.email_notifications")
print("waiting:", waiting.count())
"""


def test_database_backend_keeps_emails_for_the_worker(empty_sqlite):
    """With TASKS_BACKEND=database the notification email waits in the database until
    the worker (`manage.py db_worker`) sends it, in another process."""
    env = {"DATABASE_URL": empty_sqlite, "TASKS_BACKEND": "database"}

    posted = run_python("-c", ENQUEUE_A_REPLY, **env)
    assert posted.returncode == 0, posted.stderr
    assert "waiting: 1" in posted.stdout
    # Outside production, mail is printed; nothing was sent while posting.
    assert "Subject:" not in posted.stdout

    worked = run_python("manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload", **env)
    assert worked.returncode == 0, worked.stderr
    assert "To: poster@example.org" in worked.stdout
    assert "Subject:" in worked.stdout
    assert "state=SUCCESSFUL" in worked.stdout + worked.stderr

    again = run_python("manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload", **env)
    assert "To: poster@example.org" not in again.stdout


# deploy/


def test_systemd_units_run_commands_that_exist():
    units = {path.name: path.read_text() for path in (ROOT / "deploy" / "systemd").iterdir()}
    named = {
        command
        for text in units.values()
        for command in re.findall(r"manage\.py (\w+)", text)
    }
    assert {"db_worker", "sweep_juries", "clearsessions"} <= named
    assert named <= set(get_commands())
    assert "manage.py sweep_juries" in units["grassroots-periodic.service"]
    assert "OnCalendar=*:0/5" in units["grassroots-periodic.timer"]
    assert "gunicorn -c config/gunicorn.conf.py" in units["grassroots.service"]
