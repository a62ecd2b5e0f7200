from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from config import prepared


def analyze_remade_tables(sender, using, **kwargs):
    """On SQLite, give back the planner statistics a migration took away.

    SQLite has no automatic ANALYZE, and a migration that remakes a table (adding a
    column with a default, say) drops that table's rows of sqlite_stat1. Without them
    the planner guesses: on 1,000,000 posts Latest went from its newest-first index to
    sorting every thread, 5 times slower, until someone ran ANALYZE. So after migrating
    a database that was analysed before, each table left without statistics is analysed
    again (a few seconds at that size, once per upgrade). A new database has no
    statistics yet and is left alone."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return  # PostgreSQL's autovacuum analyses remade tables by itself
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        cursor.execute(
            "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name NOT LIKE 'sqlite_%' AND tbl_name NOT IN (SELECT tbl FROM sqlite_stat1)"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'ANALYZE "{table}"')


class ForumsConfig(AppConfig):
    name = "forums"
    verbose_name = "Forums"

    def ready(self):
        # Once per migrate: post_migrate is sent for every app; this listens for ours.
        post_migrate.connect(analyze_remade_tables, sender=self)
        # The prepared queries of forums.querysets say which PostgreSQL may plan once.
        connection_created.connect(prepared.plan_once_cursors)
