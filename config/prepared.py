"""Queries whose SQL is made once per process, for the pages every member keeps asking for.

Django builds a query's SQL anew each time it runs: for a list page's query of a
dozen columns over a few joins, with a member's filters as subqueries, that took a
fifth to a third of a member's page in Python, more than the database took to answer
it. A query of a fixed shape is built here once, with a stand-in for each value that
changes from one run to the next (a member's id, a forum's), and each run puts the
values in the stand-ins' places among the parameters: the SQL text never holds them,
so nothing reaches it but numbers the database driver binds.

`rows(key, build, *values)` runs `build(*stand_ins)`'s query with `values`; `key`
names the query's shape (everything `build` does besides the stand-ins: a slice, a
visitor's query against a member's). Rows come as the queryset's values_list() would
give them (tuples, named tuples, or single values with flat=True), through the same
converters; the query shows in query counts and logs as any other.

A value is an integer, a string compared as it is (a slug), or an aware datetime
compared with a DateTimeField ("since a day ago"): a datetime's stand-in is a moment
no post reaches, which the database's adapter writes into the parameters as it would
write the real one.

On PostgreSQL (with DB_PREPARED_STATEMENTS on, config/settings.py) a query run with
`plan_once=True` (or inside planned_once()) is also prepared on the server: parsed once
per connection, and after five runs PostgreSQL may keep one plan for all its values
("generic") instead of planning each run. For the lists every member keeps asking for,
planning was most of the database's time (1.6 of a front page's 2.2 ms at a million
posts). One plan fits the average value, though: made for a thread of 25 replies, it
read all 31,000 of the largest thread's to show 200 (44 ms instead of 1). So only
queries whose values do not change how many rows they read (a row by its key, a
member's own marks, lists across all forums, a page of a forum, a page of a thread's
replies or an author's newest posts, read in an index's order up to a limit) are
planned once; every other query is planned for each run's values. Whether the one
plan reads in order can hang on the indexes: a thread's replies got one only once the
post's thread had no index of its own (forums.models.Post.thread).
"""

import contextlib
import contextvars
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import (
    FlatValuesListIterable,
    NamedValuesListIterable,
    ValuesListIterable,
)
from django.db.models.utils import create_namedtuple_class

# Integers no real id or count reaches, one per value a query takes (as forums.fragments'
# URL stand-ins); each must come back among the parameters.
_STAND_IN = 987654321987654300
_STAND_IN_MOMENT = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
# A string's: no slug or name holds these control characters (each value adds its number).
_STAND_IN_TEXT = "\x1fprepared-text-\x1f"
_MAX_VALUES = 8
# Shapes kept per process: a page number is part of a key, so keys can keep coming.
_MAX_SHAPES = 512


@dataclass(frozen=True)
class _Compiled:
    sql: str | None  # None: the query matches nothing
    params: tuple
    slots: tuple  # (index in params, index in values)
    convert: object  # the database's values into Python's, as the ORM converts them (_converter)
    make_row: object
    columns: int | None = None  # the columns to keep of each row, when the SQL selects more


_compiled: dict = {}
_WRITTEN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


# Whether the query being run may keep one plan for all its values (rows()' plan_once).
_plan_once: contextvars.ContextVar[bool] = contextvars.ContextVar("plan_once", default=False)


@contextlib.contextmanager
def planned_once(plan_once: bool = True):
    """The queries run inside may keep one plan for all their values, as rows() runs
    those it is told to (the module's docstring): for SQL of its own whose values change no plan, such as
    a member's own marks (forums.reading)."""
    token = _plan_once.set(plan_once)
    try:
        yield
    finally:
        _plan_once.reset(token)


def _kind(value) -> str:
    return "moment" if isinstance(value, datetime) else "text" if isinstance(value, str) else "number"


class Unconverted(Sequence):
    """rows()' rows as the database gave them (`raw`, tuples of its driver's values), made
    into rows as rows() makes them only when they are first read. For a caller that
    keeps what it makes of the rows under their content: while its copy is kept it
    reads `raw` alone. Converting a reply index page's 200 rows (SQLite's dates are
    text to parse) and keying by the converted rows cost as much as the query."""

    def __init__(self, raw: tuple, make):
        self.raw = raw
        self._make = make
        self._rows = None

    @property
    def rows(self) -> list:
        if self._rows is None:
            self._rows = self._make()
        return self._rows

    def __len__(self):
        return len(self.raw)

    def __getitem__(self, index):
        return self.rows[index]

    def __iter__(self):
        return iter(self.rows)


def rows(
    key, build, *values: int | str | datetime, using: str = DEFAULT_DB_ALIAS, plan_once: bool = False,
    unconverted: bool = False,
) -> list | Unconverted:
    """The rows of `build(*stand_ins)`, a values_list() queryset, run with `values`
    (integers, strings or datetimes) in the stand-ins' places; its SQL is made once per
    `key`, database and kinds of values. `plan_once`: PostgreSQL may keep one plan for
    all values (above). `unconverted`: as Unconverted, converted only when read."""
    kinds = tuple(_kind(value) for value in values)
    compiled = _compiled.get((key, using, kinds))
    if compiled is None:
        if len(_compiled) >= _MAX_SHAPES:
            _compiled.clear()
        compiled = _compiled[key, using, kinds] = _compile(build, kinds, using)
    if compiled.sql is None:
        return Unconverted((), list) if unconverted else []
    params = list(compiled.params)
    adapt = connections[using].ops.adapt_datetimefield_value
    for position, n in compiled.slots:
        kind, value = kinds[n], values[n]
        params[position] = adapt(_aware(value)) if kind == "moment" else value if kind == "text" else int(value)
    with planned_once(plan_once), connections[using].cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    if compiled.columns is not None:
        fetched = [row[: compiled.columns] for row in fetched]
    if unconverted:
        return Unconverted(tuple(fetched), lambda: _converted(compiled, fetched))
    return _converted(compiled, fetched)


def _converted(compiled: _Compiled, fetched) -> list:
    return compiled.make_row(compiled.convert(fetched))


def _converter(compiler):
    """The rows' values converted as the ORM converts them (its apply_converters()), but
    without a call per value for what SQLite's driver already gives as Django gives it.

    With USE_TZ, Django makes each of SQLite's datetimes aware in the connection's time
    zone, and makes each boolean a bool, by calling a function per value: 8 values a
    reply, 0.19 ms of a View all page of 50 replies, half as much as running its SQL.
    Django's SQLite backend has the driver parse datetime and bool columns already (as
    naive datetimes and bools), so here a datetime is only given the time zone and a
    bool is kept, in one loop; any other value (an aggregate's date comes as text, an
    expression's boolean as 0 or 1), and every other converter, goes through Django's
    own."""
    converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
    if not converters:
        return _unchanged
    connection = compiler.connection
    # apply_converters() needs only the compiler's connection: one without the query,
    # whose tree was most of a kept shape's 39 KB (512 shapes kept per process).
    bare = type(compiler)(None, connection, compiler.using)
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return lambda fetched: bare.apply_converters(fetched, converters)
    ops = type(connection.ops)
    moments, flags, others = [], [], {}
    for position, (functions, expression) in converters.items():
        named = [getattr(function, "__func__", None) for function in functions]
        if named == [ops.convert_datetimefield_value]:
            moments.append((position, functions[0], expression))
        elif named == [ops.convert_booleanfield_value]:
            flags.append((position, functions[0], expression))
        else:
            others[position] = (functions, expression)
    zone = connection.timezone

    def convert(fetched):
        rows = bare.apply_converters(fetched, others) if others else map(list, fetched)
        converted = []
        for row in rows:
            for position, function, expression in moments:
                value = row[position]
                if value.__class__ is datetime and value.tzinfo is None:
                    row[position] = value.replace(tzinfo=zone)
                elif value is not None:
                    row[position] = function(value, expression, connection)
            for position, function, expression in flags:
                value = row[position]
                if value.__class__ is not bool and value is not None:
                    row[position] = function(value, expression, connection)
            converted.append(row)
        return converted

    return convert


def _unchanged(fetched):
    return fetched


@functools.cache
def _plan_once_cursor():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PlanOnceCursor(ServerBindingCursor):
        """Prepares on the server only what rows() runs with plan_once, once psycopg
        has seen it prepare_threshold times on the connection (a page a crawler asks
        for once is not worth preparing)."""

        def execute(self, query, params=None, *, prepare=None, **kwargs):
            if prepare is None and not _plan_once.get():
                prepare = False
            return super().execute(query, params, prepare=prepare, **kwargs)

    return PlanOnceCursor


def plan_once_cursors(sender, connection, **kwargs):
    """connection_created: on PostgreSQL with prepared statements on (server-side
    binding, a prepare threshold), cursors that prepare only plan_once queries."""
    options = connection.settings_dict["OPTIONS"]
    preparing = options.get("server_side_binding") and options.get("prepare_threshold") is not None
    if connection.vendor == "postgresql" and preparing:
        connection.connection.cursor_factory = _plan_once_cursor()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a prepared query's datetime must be aware")
    return moment


def _compile(build, kinds: tuple[str, ...], using: str) -> _Compiled:
    arity = len(kinds)
    if arity > _MAX_VALUES:
        raise ValueError(f"at most {_MAX_VALUES} values")
    stand_ins = [
        _STAND_IN_MOMENT - timedelta(microseconds=n) if kind == "moment"
        else f"{_STAND_IN_TEXT}{n}" if kind == "text" else _STAND_IN + n
        for n, kind in enumerate(kinds)
    ]
    # How each moment's stand-in reaches the parameters (SQLite's adapter writes text).
    moments = {
        _comparable(connections[using].ops.adapt_datetimefield_value(stand_in)): n
        for n, stand_in in enumerate(stand_ins) if kinds[n] == "moment"
    }
    texts = {stand_in: n for n, stand_in in enumerate(stand_ins) if kinds[n] == "text"}
    queryset = build(*stand_ins)
    compiler = queryset.query.get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        # A query that cannot match (an empty slice: a thread without replies), as
        # Django itself answers it: no rows, without asking the database.
        return _Compiled(None, (), (), _unchanged, list)
    if str(_STAND_IN)[:-2] in sql or "2999-12-31" in sql or _STAND_IN_TEXT in sql:
        raise ValueError("a stand-in was written into the SQL text instead of a parameter")
    slots = []
    for position, value in enumerate(params):
        if type(value) is int and 0 <= value - _STAND_IN < _MAX_VALUES:
            slots.append((position, value - _STAND_IN))
        elif _comparable(value) in moments:
            slots.append((position, moments[_comparable(value)]))
        elif isinstance(value, str) and value in texts:
            slots.append((position, texts[value]))
        elif isinstance(value, (date, time, timedelta)) or _WRITTEN_DATE.match(str(value)):
            # A moment that is not one of the values: the first run's clock would be
            # kept for every later run ("the last 30 days" of the day the process
            # started). SQLite's parameters are dates already written as text.
            raise ValueError("a date or time in a prepared query must be one of its values")
    if {n for _position, n in slots} != set(range(arity)):
        raise ValueError("each value must be a parameter of the query")
    sql, params, slots = _numbers_written_in(sql, params, slots)
    iterable = queryset._iterable_class
    if iterable is NamedValuesListIterable:
        query = queryset.query
        names = queryset._fields or [*query.extra_select, *query.values_select, *query.annotation_select]
        tuple_class, new = create_namedtuple_class(*names), tuple.__new__

        def make_row(found):
            return [new(tuple_class, row) for row in found]
    elif iterable is FlatValuesListIterable:
        def make_row(found):
            return [row[0] for row in found]
    elif iterable is ValuesListIterable:
        def make_row(found):
            return [tuple(row) for row in found]
    else:
        raise ValueError("prepared queries give values_list() rows")
    columns = compiler.col_count if compiler.has_extra_select else None
    return _Compiled(sql, params, slots, _converter(compiler), make_row, columns)


_PLACEHOLDER = re.compile(r"%s|%%")


def _numbers_written_in(sql: str, params, slots) -> tuple[str, tuple, tuple]:
    """The query with the numbers of its shape (not the values' stand-ins) written into
    its SQL: a slice's bounds, an opening post's number 0. As parameters, PostgreSQL's
    one plan for a prepared query does not know them while a plan for one run does, so
    the one plan could look dearer and never be kept (Greatest's, with number = 0 a
    parameter: 99 against 57, planned anew on every run). Integers only (not booleans):
    nothing else of a shape is written into its SQL."""
    values = {position for position, _n in slots}
    kept, moved, positions = [], {}, iter(range(len(params)))

    def written(match):
        if match.group() == "%%":
            return "%%"
        position = next(positions)
        value = params[position]
        # Django hands some as psycopg's Int4 and the like, which are ints too.
        if isinstance(value, int) and not isinstance(value, bool) and position not in values:
            return str(int(value))
        moved[position] = len(kept)
        kept.append(value)
        return "%s"

    sql = _PLACEHOLDER.sub(written, sql)
    if next(positions, None) is not None:
        raise ValueError("the SQL has fewer placeholders than parameters")
    return sql, tuple(kept), tuple((moved[position], n) for position, n in slots)


def _comparable(value):
    """A parameter as a key: datetimes and their text alike (a list is unhashable)."""
    return value if isinstance(value, (str, datetime)) else None
