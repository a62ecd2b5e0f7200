"""CSRF, open redirects, clickjacking and session fixation (issue 10, part 3).

Every POST of the authorisation table is sent without a CSRF token, by a role that may
make it, and must be refused with 403 and change nothing; the same request with the
token then goes through, which shows that the token was the only thing missing.
"""

from importlib import import_module
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User

from tests.world import PASSWORD

from .conftest import db_state, state_diff
from .test_authorization import REFUSED, TABLE, assert_status

# Who sends each POST: the first role the table lets make it (or, for rows nobody
# may make, the member).
SENDER_PREFERENCE = [
    "member", "host", "staff", "superuser", "star", "blocked", "other_host", "suspended",
]


def _sender(row) -> str:
    allowed = [role for role in SENDER_PREFERENCE if row.expected[role] not in REFUSED]
    return allowed[0] if allowed else "member"


POST_ROWS = [row for row in TABLE if row.method == "post"]
CASES = [(row, variant) for row in POST_ROWS for variant in ("no-cookie", "no-token", "wrong-token")]


def _csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def _token(client) -> str:
    """Load a page with a form, which sets the CSRF cookie, and return its value."""
    response = client.get(reverse("account_login"))
    if response.status_code == 302:  # logged in already
        client.get(reverse("members:settings"))
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def _is_csrf_refusal(response) -> bool:
    return response.status_code == 403 and b"CSRF" in response.content


@pytest.mark.parametrize("row, variant", CASES, ids=[f"{row.id}-{variant}" for row, variant in CASES])
def test_post_without_a_valid_token_is_refused(db, world, row, variant):
    role = _sender(row)
    user = world.user(role)
    client = _csrf_client(user)
    data = dict(row.data(world, user))
    if variant != "no-cookie":
        token = _token(client)
        if variant == "wrong-token":
            data["csrfmiddlewaretoken"] = token[::-1]
    before = db_state()

    response = client.post(row.url(world), data)

    assert _is_csrf_refusal(response), (response.status_code, response.content[:300])
    after = db_state()
    assert after == before, state_diff(before, after)


@pytest.mark.parametrize("row", POST_ROWS, ids=[row.id for row in POST_ROWS])
def test_the_same_post_with_the_token_goes_through(db, world, row):
    role = _sender(row)
    user = world.user(role)
    client = _csrf_client(user)
    data = {**row.data(world, user), "csrfmiddlewaretoken": _token(client)}

    response = client.post(row.url(world), data)

    assert not _is_csrf_refusal(response)
    assert_status(response, row.expected[role])
    if row.expected[role] not in REFUSED and row.changed:
        assert row.changed(world, user)


CHANGING_ROWS = [row for row in POST_ROWS if row.changed and row.expected[_sender(row)] not in REFUSED]


@pytest.mark.parametrize("row", CHANGING_ROWS, ids=[row.id for row in CHANGING_ROWS])
def test_a_get_with_the_same_data_changes_nothing(db, world, row):
    """A link or an <img> on another site makes a GET, which carries no token: it must
    never do what the form's POST does."""
    role = _sender(row)
    user = world.user(role)
    client = _csrf_client(user)

    response = client.get(row.url(world), row.data(world, user))

    assert response.status_code in {200, 302, 405}
    assert not row.changed(world, user)


# The account forms, which allauth renders and we rely on.


@pytest.fixture
def mia(db, world):
    """The world's plain member, who logs in as "mia" with PASSWORD."""
    return world.user("member")


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore()


def _logged_in(client) -> bool:
    return SESSION_KEY in client.session


@pytest.mark.parametrize("with_cookie", [False, True], ids=["no-cookie", "no-token"])
def test_login_without_the_token_is_refused(mia, with_cookie):
    client = _csrf_client()
    if with_cookie:
        _token(client)
    response = client.post(reverse("account_login"), {"login": "mia", "password": PASSWORD})
    assert _is_csrf_refusal(response)
    assert not _logged_in(client)


def test_login_with_the_token_logs_in(mia):
    client = _csrf_client()
    token = _token(client)
    response = client.post(
        reverse("account_login"), {"login": "mia", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and _logged_in(client)


def test_signup_without_the_token_creates_no_one(db):
    client = _csrf_client()
    _token(client)
    members = User.objects.count()
    response = client.post(reverse("account_signup"), {
        "email": "new@example.org", "username": "newcomer",
        "password1": "a long passphrase 42", "password2": "a long passphrase 42",
    })
    assert _is_csrf_refusal(response)
    assert User.objects.count() == members


def test_logout_without_the_token_keeps_the_member_logged_in(mia):
    client = _csrf_client(mia)
    _token(client)
    response = client.post(reverse("account_logout"))
    assert _is_csrf_refusal(response)
    assert client.get(reverse("members:settings")).status_code == 200


def test_password_reset_without_the_token_sends_nothing(mia, mailoutbox):
    client = _csrf_client()
    _token(client)
    response = client.post(reverse("account_reset_password"), {"email": "mia@example.org"})
    assert _is_csrf_refusal(response)
    assert mailoutbox == []


def test_password_reset_with_the_token_sends_the_mail(mia, mailoutbox):
    client = _csrf_client()
    token = _token(client)
    response = client.post(
        reverse("account_reset_password"), {"email": "mia@example.org", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert [message.to for message in mailoutbox] == [["mia@example.org"]]


def test_admin_login_without_the_token_is_refused(db, world):
    client = _csrf_client()
    client.get(reverse("admin:login"))
    response = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    assert _is_csrf_refusal(response)
    assert not _logged_in(client)


def test_password_change_without_the_token_changes_nothing(mia):
    client = _csrf_client(mia)
    _token(client)
    response = client.post(reverse("account_change_password"), {
        "oldpassword": PASSWORD, "password1": "another passphrase 42", "password2": "another passphrase 42",
    })
    assert _is_csrf_refusal(response)
    mia.refresh_from_db()
    assert mia.check_password(PASSWORD)


# Open redirects: a `next` that points off the site is never followed.

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    " //evil.example",
    "https:evil.example",
    "http://testserver@evil.example/",
    "https://testserver.evil.example/",
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
]


def _on_site(location: str) -> bool:
    """Where a browser would go stays on testserver (browsers drop tabs and newlines
    from URLs and read a backslash as a slash)."""
    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").strip().replace("\\", "/")
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return parts.scheme in {"http", "https"} and parts.netloc == "testserver"
    return cleaned.startswith("/") and not cleaned.startswith("//")


def test_the_on_site_check_itself():
    assert _on_site("/forums/") and _on_site("http://testserver/t/1/") and _on_site("/?next=//x")
    assert not any(_on_site(target) for target in OFF_SITE)


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_does_not_follow_an_off_site_next(mia, client, target):
    response = client.post(
        reverse("account_login"), {"login": "mia", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302 and _logged_in(client)
    assert _on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_page_query_next_is_not_followed(mia, client, target):
    url = reverse("account_login")
    response = client.post(f"{url}?{urlencode({'next': target})}", {"login": "mia", "password": PASSWORD})
    assert response.status_code == 302
    assert _on_site(response["Location"]), response["Location"]
    # A member who is already logged in is sent on from the login page: still on-site.
    response = client.get(url, {"next": target})
    if response.status_code == 302:
        assert _on_site(response["Location"]), response["Location"]


def test_login_follows_an_on_site_next(mia, client):
    response = client.post(reverse("account_login"), {"login": "mia", "password": PASSWORD, "next": "/latest/"})
    assert response["Location"] == "/latest/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_logout_does_not_follow_an_off_site_next(mia, client, target):
    client.force_login(mia)
    response = client.post(reverse("account_logout"), {"next": target})
    assert response.status_code == 302
    assert _on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", OFF_SITE[:5])
def test_signup_does_not_follow_an_off_site_next(db, client, target):
    response = client.post(reverse("account_signup"), {
        "email": "new@example.org", "username": "newcomer",
        "password1": "a long passphrase 42", "password2": "a long passphrase 42", "next": target,
    })
    assert response.status_code == 302, response.content.decode()[:500]
    assert _on_site(response["Location"]), response["Location"]


# Our own views that return to `next` after a small action.
BACK_VIEWS = [
    ("recommend", lambda w: reverse("forums:post-recommend", args=[w.other_reply.thread_id, w.other_reply.number]),
     {"recommend": "1"}),
    ("thread-trash", lambda w: reverse("forums:thread-trash", args=[w.other_thread.pk]), {"trash": "1"}),
    ("forum-trash", lambda w: reverse("forums:forum-trash", args=[w.other_forum.slug]), {"trash": "1"}),
    ("ignore", lambda w: reverse("forums:member-ignore", args=[w.ann.username]), {"ignore": "1"}),
]
BACK_CASES = [(view, target) for view in BACK_VIEWS for target in OFF_SITE]


@pytest.mark.parametrize(
    "view, target", BACK_CASES, ids=[f"{view[0]}-{n % len(OFF_SITE)}" for n, (view, _t) in enumerate(BACK_CASES)]
)
def test_our_views_do_not_follow_an_off_site_next(client, db, world, view, target):
    _name, url, data = view
    client.force_login(world.user("member"))
    response = client.post(url(world), {**data, "next": target})
    assert response.status_code == 302
    assert _on_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("view", BACK_VIEWS, ids=[view[0] for view in BACK_VIEWS])
def test_our_views_follow_an_on_site_next(client, db, world, view):
    _name, url, data = view
    client.force_login(world.user("member"))
    response = client.post(url(world), {**data, "next": "/latest/?page=1"})
    assert response["Location"] == "/latest/?page=1"


# Clickjacking: no page of ours may be framed by another site.


def _pages(w):
    thread = w.thread
    return [
        (None, reverse("forums:home")),
        (None, reverse("forums:forum-detail", args=[w.forum.slug])),
        (None, reverse("forums:thread-detail", args=[thread.pk, thread.slug])),
        (None, reverse("forums:latest-feed")),
        (None, reverse("account_login")),
        (None, reverse("account_signup")),
        (None, reverse("admin:login")),
        (None, reverse("healthz")),
        (None, "/no/such/page/"),
        ("member", reverse("members:settings")),
        ("member", reverse("conversations:conversation-detail", args=[w.conversation.pk])),
        ("member", reverse("forums:reply-create", args=[thread.pk, 0])),
        ("star", reverse("moderation:thread-lock", args=[thread.pk])),
        ("superuser", reverse("admin:index")),
    ]


def test_every_page_refuses_to_be_framed(client, db, world):
    statuses = set()
    for role, url in _pages(world):
        if role:
            client.force_login(world.user(role))
        else:
            client.logout()
        response = client.get(url)
        statuses.add(response.status_code)
        assert response.get("X-Frame-Options") == "DENY", url
        assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", ""), url
    assert {200, 404, 405} <= statuses  # error pages too


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.lookup_str, pattern.callback


def test_no_view_of_ours_is_exempt_from_framing_or_csrf_protection():
    ours = ("accounts.", "forums.", "moderation.", "conversations.", "config.")
    exempt = sorted(
        name for name, view in _views(get_resolver().url_patterns)
        if name.startswith(ours)
        and (getattr(view, "xframe_options_exempt", False) or getattr(view, "csrf_exempt", False))
    )
    assert not exempt


# Session fixation: a session planted before login is worthless after it.


def test_login_replaces_a_planted_session(mia, client):
    planted = client.session
    planted["planted"] = "by someone else"
    planted.save()
    old_key = planted.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = old_key

    response = client.post(reverse("account_login"), {"login": "mia", "password": PASSWORD})

    assert response.status_code == 302
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key and new_key != old_key
    assert _logged_in(client)
    assert not _session_store().exists(old_key)
    # Whoever planted the old key holds nothing.
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = attacker.get(reverse("members:settings"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_logout_ends_the_session(mia, client):
    client.post(reverse("account_login"), {"login": "mia", "password": PASSWORD})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("account_logout"))
    assert not _session_store().exists(key)
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get(reverse("members:settings")).status_code == 302
