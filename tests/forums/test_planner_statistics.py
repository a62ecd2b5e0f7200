"""SQLite keeps the planner's statistics after a migration remakes a table."""

import pytest
from django.db import connection

from forums.apps import analyze_remade_tables


def _analysed_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {table for (table,) in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite has no automatic ANALYZE")
def test_a_table_a_migration_remade_is_analysed_again(thread, db):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        # What remaking forums_thread (a column added with a default) leaves behind.
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'forums_thread'")
    assert "forums_thread" not in _analysed_tables()

    analyze_remade_tables(sender=None, using="default")

    assert "forums_thread" in _analysed_tables()
