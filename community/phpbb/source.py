"""Reading a phpBB 3.x database, read-only, from SQLite, PostgreSQL or MySQL.

The source is opened with the engine's own driver rather than as a Django database:
it is somebody else's schema, read once, in big ordered batches. Every check that the
source is phpBB happens in `open_source`, before the import writes anything.
"""

import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit

# The tables and the columns the importer reads (phpBB 3.0 to 3.3). Columns whose name
# changed between versions are looked up when the source is opened.
REQUIRED = {
    "users": ["user_id", "user_type", "username", "user_password", "user_email", "user_regdate",
              "user_sig", "user_sig_bbcode_uid"],
    "forums": ["forum_id", "parent_id", "left_id", "forum_name", "forum_desc", "forum_desc_uid",
               "forum_type"],
    "topics": ["topic_id", "forum_id", "topic_title", "topic_poster", "topic_time", "topic_views",
               "topic_status", "topic_type", "topic_moved_id", "topic_first_post_id", "poll_title",
               "poll_start", "poll_length", "poll_max_options", "poll_vote_change"],
    "posts": ["post_id", "topic_id", "poster_id", "post_time", "post_subject", "post_text",
              "bbcode_uid", "post_attachment"],
}
OPTIONAL = {
    "banlist": ["ban_id", "ban_userid", "ban_end", "ban_exclude", "ban_reason", "ban_give_reason"],
    "moderator_cache": ["forum_id", "user_id"],
    "privmsgs": ["msg_id", "root_level", "author_id", "message_time", "message_subject",
                 "message_text", "bbcode_uid"],
    "privmsgs_to": ["msg_id", "user_id"],
    "poll_options": ["poll_option_id", "topic_id", "poll_option_text"],
    "poll_votes": ["topic_id", "poll_option_id", "vote_user_id"],
    "profile_fields_data": ["user_id", "pf_phpbb_location", "pf_phpbb_website"],
    "config": ["config_name", "config_value"],
}
PREFIX = re.compile(r"^[A-Za-z0-9_]{0,32}$")
FETCH = 5000


class SourceError(Exception):
    """The source cannot be imported; the message says why and what to do."""


class Source:
    """An open phpBB database: its tables' columns, and ordered reads in batches."""

    def __init__(self, connection, *, engine: str, prefix: str, name: str):
        self.connection, self.engine, self.prefix, self.name = connection, engine, prefix, name
        self.placeholder = "?" if engine == "sqlite" else "%s"
        self.columns: dict[str, set[str]] = {}
        self._cursors = 0

    def table(self, name: str) -> str:
        return self.prefix + name

    def has(self, table: str, column: str | None = None) -> bool:
        columns = self.columns.get(table)
        return columns is not None and (column is None or column in columns)

    def rows(self, sql: str, params=()):
        """The rows of a query as dicts, fetched in batches. `{t}` in the SQL is the prefix."""
        if self.engine == "postgres":
            # A server-side cursor: psycopg would otherwise fetch every row at once.
            self._cursors += 1
            cursor = self.connection.cursor(name=f"phpbb_import_{self._cursors}")
        else:
            cursor = self.connection.cursor()
        cursor.execute(sql.replace("{t}", self.prefix).replace("%s", self.placeholder), params)
        names = [column[0] for column in cursor.description]
        while batch := cursor.fetchmany(FETCH):
            for row in batch:
                yield dict(zip(names, row))

    def scalar(self, sql: str, params=()):
        for row in self.rows(sql, params):
            return next(iter(row.values()))
        return None

    def close(self) -> None:
        self.connection.close()

    def _read_columns(self, table: str) -> set[str] | None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.table(table)} WHERE 1 = 0")
        except Exception:  # noqa: BLE001 - each driver has its own "no such table"
            self.connection.rollback()
            return None
        columns = {column[0].lower() for column in cursor.description}
        cursor.fetchall()
        return columns

    def inspect(self) -> None:
        """Read which tables and columns exist; refuse a source that is not phpBB."""
        missing_tables = []
        for table in [*REQUIRED, *OPTIONAL]:
            columns = self._read_columns(table)
            if columns is not None:
                self.columns[table] = columns
            elif table in REQUIRED:
                missing_tables.append(self.table(table))
        if len(missing_tables) == len(REQUIRED):
            others = self._prefixes_found()
            hint = f" Tables found with the prefix {', '.join(others)}: pass --table-prefix." if others else ""
            raise SourceError(
                f"{self.name} has no phpBB tables with the prefix {self.prefix!r} "
                f"(looked for {', '.join(missing_tables)}).{hint}"
            )
        if missing_tables:
            raise SourceError(f"{self.name} is not a complete phpBB database: "
                              f"{', '.join(missing_tables)} missing.")
        for table, needed in {**REQUIRED, **OPTIONAL}.items():
            absent = [column for column in needed if table in self.columns and column not in self.columns[table]]
            if absent and table in REQUIRED:
                raise SourceError(f"{self.table(table)} lacks phpBB's columns {', '.join(absent)}: "
                                  "this is not a phpBB 3 database.")
            if absent:
                del self.columns[table]  # an older or changed table: not read
        if not (self.has("posts", "post_visibility") or self.has("posts", "post_approved")):
            raise SourceError(f"{self.table('posts')} has neither post_visibility (phpBB 3.1+) "
                              "nor post_approved (3.0): this is not a phpBB 3 database.")

    def _prefixes_found(self) -> list[str]:
        names = self._table_names()
        return sorted({name[: -len("posts")] for name in names if name.endswith("posts")
                       and name[: -len("posts")] + "topics" in names})

    def _table_names(self) -> set[str]:
        queries = {
            "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
            "postgres": "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
            "mysql": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
        }
        try:
            return {row[0] for row in self._execute(queries[self.engine])}
        except Exception:  # noqa: BLE001 - only a hint for the error message
            return set()

    def _execute(self, sql):
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return cursor.fetchall()

    @property
    def version(self) -> str:
        if not self.has("config"):
            return "unknown"
        return self.scalar("SELECT config_value FROM {t}config WHERE config_name = %s", ["version"]) or "unknown"


def open_source(url: str, *, prefix: str) -> Source:
    """Connect to the phpBB database at `url` and check that it is one."""
    if not PREFIX.match(prefix):
        raise SourceError(f"{prefix!r} is not a table prefix (letters, digits and _ only).")
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        source = _open_sqlite(url, prefix)
    elif scheme in ("postgres", "postgresql", "pgsql"):
        source = _open_postgres(url, prefix)
    elif scheme == "mysql":
        source = _open_mysql(url, prefix)
    else:
        raise SourceError(f"Give the phpBB database as sqlite:///path, postgres://... or mysql://... (not {scheme}:).")
    try:
        source.inspect()
    except Exception:
        source.close()
        raise
    return source


def _open_sqlite(url: str, prefix: str) -> Source:
    # sqlite:////absolute/path or sqlite:///relative/path, as dj-database-url reads them.
    path = Path(unquote(url.split(":///", 1)[-1]))
    if not path.is_file():
        raise SourceError(f"There is no SQLite database at {path}.")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise SourceError(f"Could not read {path} as an SQLite database: {error}.") from error
    return Source(connection, engine="sqlite", prefix=prefix, name=str(path))


def _open_postgres(url: str, prefix: str) -> Source:
    import psycopg

    try:
        connection = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as error:
        raise SourceError(f"Could not connect to the PostgreSQL database: {str(error).strip()}") from error
    # Nothing in the import writes to the source; the session says so too.
    connection.read_only = True
    return Source(connection, engine="postgres", prefix=prefix, name=_safe_name(url))


def _open_mysql(url: str, prefix: str) -> Source:
    try:
        import MySQLdb as driver
    except ImportError:
        try:
            import pymysql as driver
        except ImportError:
            raise SourceError(
                "Reading MySQL needs a MySQL client library: `pip install mysqlclient` "
                "(or PyMySQL), or dump the database and load it into PostgreSQL or SQLite first."
            ) from None
    parts = urlsplit(url)
    try:
        connection = driver.connect(
            host=parts.hostname or "localhost", port=parts.port or 3306,
            user=unquote(parts.username or ""), password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")), charset="utf8mb4",
        )
    except driver.Error as error:
        raise SourceError(f"Could not connect to the MySQL database: {error}") from error
    return Source(connection, engine="mysql", prefix=prefix, name=_safe_name(url))


def _safe_name(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"
