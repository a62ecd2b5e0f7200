"""The security suites share one world (tests/world.py `build_world`), built once per
module, and compare every row of the forum's tables before and after a request."""

import functools

import pytest
from django.apps import apps
from django.db import connection

from tests.world import build_world, built_once

SNAPSHOT_APPS = ("accounts", "forums", "moderation", "conversations")
# Logging in stamps last_login; that is the session's business, not a change to the forum.
VOLATILE_FIELDS = {"accounts.user": {"last_login"}}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once for the module and rolled back after it."""
    with built_once(django_db_blocker, build_world) as built:
        yield built


@functools.cache
def _snapshot_queries() -> list:
    queries = []
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            skip = VOLATILE_FIELDS.get(model._meta.label_lower, set())
            columns = ", ".join(
                connection.ops.quote_name(field.column)
                for field in model._meta.concrete_fields if field.attname not in skip
            )
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            queries.append((model._meta.label, f"SELECT {columns} FROM {table} ORDER BY {pk}"))
    return queries


def db_state() -> dict:
    """Every row of the forum's own tables (but login stamps), to compare before and after.
    Plain SQL: this runs twice in hundreds of tests."""
    with connection.cursor() as cursor:
        state = {}
        for label, sql in _snapshot_queries():
            cursor.execute(sql)
            state[label] = cursor.fetchall()
    return state


def state_diff(before: dict, after: dict) -> list[str]:
    """Which tables changed, and how, for an assertion message."""
    changes = []
    for table, rows in before.items():
        if after[table] != rows:
            added = [row for row in after[table] if row not in rows]
            removed = [row for row in rows if row not in after[table]]
            changes.append(f"{table}: +{added[:3]} -{removed[:3]}")
    return changes
