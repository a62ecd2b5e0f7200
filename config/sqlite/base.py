"""Django's SQLite backend, converting each query's placeholders once per query text.

Django writes its SQL with %s placeholders, and its SQLite cursor turns them into
SQLite's ? on every run with a regular expression (a lookbehind tried at each of the
query's characters): 36 µs for the 3.3 KB query of a thread page's thread, more than
SQLite took to run it, and 0.11 – 0.20 ms of each member's page (3.5 – 7.4 KB of SQL). What
it makes depends on the text alone, and pages run the same texts over and over
(config.prepared runs the very same strings), so it is kept per text.
"""

import functools

from django.db.backends.sqlite3 import base

# Longer texts (a bulk insert's thousands of placeholders) are converted on each run:
# they are rare, and keeping them would hold megabytes per process.
LONGEST_KEPT = 16_000


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None and len(query) <= LONGEST_KEPT:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


@functools.lru_cache(maxsize=256)
def _qmark_style(query: str) -> str:
    # Django's own conversion, which reads nothing of the cursor.
    return base.SQLiteCursorWrapper.convert_query(None, query)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
