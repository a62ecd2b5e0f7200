"""config.sqlite: Django's SQLite backend, converting each query's placeholders once per
query text instead of on every run."""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

from tests.factories import ForumFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend"),
]


def test_the_site_runs_on_it():
    from config.sqlite import base

    assert connection.settings_dict["ENGINE"] == "config.sqlite"
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, base.SQLiteCursorWrapper)


@pytest.mark.parametrize("sql", [
    "SELECT %s",
    "SELECT name FROM forums_forum WHERE slug = %s AND name LIKE '%%' || %s",
    "SELECT '100%%', %s, '%%s stays text'",
    "SELECT 1",
])
def test_queries_read_as_djangos_own_cursor_makes_them(sql):
    from config.sqlite import base

    assert base._qmark_style(sql) == DjangoCursor.convert_query(None, sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"v{n}" for n in range(sql.count("%s") - sql.count("%%s"))])
        cursor.fetchall()


def test_a_query_text_is_converted_once_and_answers_each_run_with_its_own_values():
    from config.sqlite import base

    forums = ForumFactory.create_batch(3)
    sql = "SELECT name FROM forums_forum WHERE slug = %s"
    base._qmark_style.cache_clear()
    with connection.cursor() as cursor:
        names = []
        for forum in forums:
            cursor.execute(sql, [forum.slug])
            names.append(cursor.fetchone()[0])
    assert names == [forum.name for forum in forums]
    info = base._qmark_style.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_a_very_long_query_is_converted_on_each_run_and_not_kept():
    from config.sqlite import base

    forums = ForumFactory.create_batch(3)
    sql = "SELECT COUNT(*) FROM forums_forum WHERE id IN (" + ", ".join(["%s"] * 4000) + ")"
    assert len(sql) > base.LONGEST_KEPT
    base._qmark_style.cache_clear()
    with connection.cursor() as cursor:
        cursor.execute(sql, [forums[0].pk, forums[2].pk, *range(-3998, 0)])
        assert cursor.fetchone() == (2,)
    assert base._qmark_style.cache_info().currsize == 0
