"""Members' sessions with Redis (cached_db): read from the cache, still ended at once.
These run only when REDIS_URL is set (CI's PostgreSQL + Redis run); without it the
sessions are in the database alone."""

import os

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community.services import member_delete

PASSWORD = "correct horse battery staple"  # every MemberFactory member's

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is unset"),
    pytest.mark.cached_sessions,
]


def _logged_in(client) -> bool:
    return "Log out" in client.get(reverse("forums:home")).content.decode()


def test_a_members_page_reads_the_session_from_the_cache(client, member):
    client.force_login(member)
    client.get(reverse("forums:home"))
    with CaptureQueriesContext(connection) as queries:
        assert _logged_in(client)
    assert not [query for query in queries if "django_session" in query["sql"]]


def test_logging_out_ends_the_cached_session_at_once(client, member):
    client.force_login(member)
    key = client.cookies["sessionid"].value
    assert _logged_in(client)
    client.post(reverse("account_logout"))

    replay = Client()
    replay.cookies["sessionid"] = key
    assert not _logged_in(replay)


def test_deleting_the_account_ends_its_cached_sessions(client, member):
    client.force_login(member)
    assert _logged_in(client)
    member_delete(member=member, password=PASSWORD)
    assert not _logged_in(client)
