import contextlib
import functools
import http.server
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# The live server runs in a thread beside Playwright's event loop; Django's async
# guard would otherwise refuse the ORM calls the tests make to set up data.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright cannot download its own browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: `make test` installs it as root")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


# Shared by the look-and-feel tests: axe-core from npm, logging in without the login
# form, and the folder that screenshots go to.

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


class _CachedFiles(http.server.SimpleHTTPRequestHandler):
    """Files the browser may keep: Chromium then reuses its compiled code for axe.min.js
    instead of compiling 500 KB of script on every page (a third of an axe check)."""

    def end_headers(self):
        self.send_header("Cache-Control", "public, max-age=3600")
        super().end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def axe_url():
    """The address of axe-core's script, installed by `npm ci` from package-lock.json and
    served from this machine. Missing is a failure, not a skip: without it the
    accessibility checks would pass by not running."""
    if not AXE.exists():
        pytest.fail(
            f"{AXE.relative_to(ROOT)} is missing: run `npm ci` in {ROOT} "
            "(`make test` does it) to install axe-core for the accessibility checks.",
            pytrace=False,
        )
    handler = functools.partial(_CachedFiles, directory=str(AXE.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{AXE.name}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig):
    """test-results/screenshots/ (under Playwright's --output folder), for review.
    Screenshots are JPEG: a tall page encodes in half the time it takes as PNG."""
    folder = Path(pytestconfig.getoption("--output")).absolute() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def session_cookie(live_server, user):
    """A logged-in session for `user`, as a cookie for a browser context."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value, "url": live_server.url}


@contextlib.contextmanager
def member_page(browser, live_server, user, **options):
    """A page of a new browser context (`options`: viewport, java_script_enabled, ...)
    logged in as `user`; the context is closed afterwards."""
    context = browser.new_context(**options)
    context.add_cookies([session_cookie(live_server, user)])
    try:
        yield context.new_page()
    finally:
        context.close()
