"""Full-text search over thread titles and post bodies, on SQLite (FTS5) and
PostgreSQL (tsvector + GIN), giving the same results on both.

Members' queries never reach either engine's query language: words and "quoted
phrases" are picked out here and the engine query is built from them, so quotes,
operators and odd characters can't cause errors or do anything unexpected. Every
word matches as a prefix ("elect" finds "election").
"""

import re
from dataclasses import dataclass

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, FloatField, Q, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_noop

from .models import Post
from .pagination import page_or_404

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
MARK_START, MARK_END = "\x02", "\x03"

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"\w+", re.UNICODE)


RESULTS_PER_PAGE = 20


class SearchQueryError(ValueError):
    pass


class UnknownAuthor(ValueError):
    """The author filter names no member; the message is UNKNOWN_AUTHOR."""


QUERY_TOO_LONG = gettext_noop("Search for at most 200 characters.")
QUERY_NO_WORDS = gettext_noop("Type at least one word (letters or numbers) to search for.")
UNKNOWN_AUTHOR = gettext_noop("No member is called %(name)s.")


@dataclass(frozen=True)
class Terms:
    """Each entry is a tuple of words: one word, or a phrase of several."""

    groups: tuple[tuple[str, ...], ...]

    @property
    def words(self) -> list[str]:
        return [word for group in self.groups for word in group]


def parse(raw: str) -> Terms:
    raw = raw.strip()
    if len(raw) > MAX_QUERY_LENGTH:
        raise SearchQueryError(QUERY_TOO_LONG)
    groups = []
    for phrase in _PHRASE.findall(raw):
        words = tuple(word.lower() for word in _WORD.findall(phrase))
        if words:
            groups.append(words)
    for word in _WORD.findall(_PHRASE.sub(" ", raw)):
        groups.append((word.lower(),))
    if not groups:
        raise SearchQueryError(QUERY_NO_WORDS)
    return Terms(tuple(dict.fromkeys(groups))[:MAX_TERMS])


def _fts5_query(terms: Terms) -> str:
    parts = []
    for group in terms.groups:
        if len(group) == 1:
            parts.append(f'"{group[0]}"*')
        else:
            parts.append('"' + " ".join(group) + '"')
    return " ".join(parts)


def _tsquery(terms: Terms) -> str:
    parts = []
    for group in terms.groups:
        if len(group) == 1:
            parts.append(f"'{group[0]}':*")
        else:
            parts.append("(" + " <-> ".join(f"'{word}'" for word in group) + ")")
    return " & ".join(parts)


def search_posts(terms: Terms, *, include_hidden: bool = False, order: str = "relevance",
                 forum=None, author=None, since=None, until=None):
    """Posts matching all terms, newest or most relevant first, each with `rank` and a
    `snippet` whose matches are wrapped in MARK_START/MARK_END. Returns something a
    Paginator can page: a QuerySet on PostgreSQL, an FTS5 result set on SQLite."""
    filters = Q()
    if not include_hidden:
        filters &= Q(is_deleted=False, is_hidden=False)
    if forum is not None:
        filters &= Q(thread__forum=forum)
    if author is not None:
        filters &= Q(author=author)
    if since is not None:
        filters &= Q(created_at__gte=since)
    if until is not None:
        filters &= Q(created_at__lt=until)
    if connection.vendor == "postgresql":
        return _postgres_search(terms, filters, order)
    return _Fts5Results(
        _fts5_query(terms), order=order, include_hidden=include_hidden, forum=forum,
        author=author, since=since, until=until,
    )


def _postgres_search(terms: Terms, filters: Q, order: str):
    query = _tsquery(terms)
    matches = Post.objects.filter(filters).filter(
        # Unqualified: inside the subquery below the table has another alias, and a
        # qualified name would point at the outer query's row (a correlated subquery).
        RawSQL("search_vector @@ to_tsquery('simple', %s)", [query], output_field=BooleanField())
    )
    # The newest matches only (see FORUMS_SEARCH_MAX_RESULTS), then ranked. Whether
    # there are more than that is asked first, with no order: the planner then uses
    # the full-text index for a rare word and stops early for a common one. Walking
    # the ids newest first suits only a common word; for a rare one it would read
    # the whole table looking for matches that are not there.
    limit = settings.FORUMS_SEARCH_MAX_RESULTS
    found = matches.order_by().values("id")[: limit + 1].count()
    if found > limit:
        matches = Post.objects.filter(pk__in=matches.order_by("-id").values("id")[:limit])
    ranked = matches.annotate(
        rank=RawSQL("ts_rank(forums_post.search_vector, to_tsquery('simple', %s))", [query], output_field=FloatField()),
        # PostgreSQL computes this costly column only for the rows of the page.
        snippet=RawSQL(
            "ts_headline('simple', forums_post.body_text, to_tsquery('simple', %s), %s)",
            [query, f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2"],
            output_field=TextField(),
        ),
    )
    if order == "newest":
        ranked = ranked.order_by("-id")
    else:
        ranked = ranked.order_by("-rank", "-id")
    return _PostgresResults(min(found, limit), ranked)


def _load_page(rows) -> list:
    """Posts of a page of (id, rank, snippet) rows, in that order, with what a result
    shows. Loading them apart keeps joins out of the ranking query, whose row estimates
    for full-text matches are too rough to plan joins on."""
    posts = Post.objects.select_related("thread__forum", "author").in_bulk([row[0] for row in rows])
    results = []
    for post_id, rank, snippet in rows:
        post = posts[post_id]
        post.rank, post.snippet = rank, snippet
        results.append(post)
    return results


class _PostgresResults:
    """Counted without the rank and snippet columns (Django would otherwise count over
    a subquery that makes a headline for every match), ranked without joins."""

    def __init__(self, found: int, ranked):
        self.found, self.ranked = found, ranked

    def count(self) -> int:
        return self.found

    def __len__(self):
        return self.count()

    def __getitem__(self, page):
        return _load_page(list(self.ranked.values_list("id", "rank", "snippet")[page]))


class _Fts5Results:
    """The matches of one FTS5 query, counted and paged with FTS5 in the driving seat:
    the ranking and snippet functions run once per row of the page, never per match."""

    def __init__(self, match: str, *, order, include_hidden, forum, author, since, until):
        self.match, self.order = match, order
        adapt = connection.ops.adapt_datetimefield_value
        conditions, self.where_params = [], []
        if not include_hidden:
            conditions.append("forums_post.is_deleted = 0 AND forums_post.is_hidden = 0")
        if forum is not None:
            conditions.append("forums_thread.forum_id = %s")
            self.where_params.append(forum.pk)
        if author is not None:
            conditions.append("forums_post.author_id = %s")
            self.where_params.append(author.pk)
        if since is not None:
            conditions.append("forums_post.created_at >= %s")
            self.where_params.append(adapt(since))
        if until is not None:
            conditions.append("forums_post.created_at < %s")
            self.where_params.append(adapt(until))
        self.conditions = "".join(f" AND {condition}" for condition in conditions)

    def _from(self) -> str:
        return (
            "FROM forums_post_fts JOIN forums_post ON forums_post.id = forums_post_fts.rowid "
            "JOIN forums_thread ON forums_thread.id = forums_post.thread_id "
            f"WHERE forums_post_fts MATCH %s{self.conditions}"
        )

    def _newest_matches(self) -> str:
        """The ids of the newest matches that pass the filters: FTS5 walks its matches
        newest first and stops at the cap, however many posts hold a common word."""
        return f"SELECT forums_post.id {self._from()} ORDER BY forums_post_fts.rowid DESC LIMIT %s"

    def _params(self) -> list:
        return [self.match, *self.where_params]

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM ({self._newest_matches()})",
                [*self._params(), settings.FORUMS_SEARCH_MAX_RESULTS],
            )
            return cursor.fetchone()[0]

    def __len__(self):
        return self.count()

    def __getitem__(self, page: slice):
        order = "forums_post_fts.rowid DESC"
        if self.order != "newest":
            order = f"rank DESC, {order}"
        # The newest matches are those from the oldest of them on: a rowid range, which
        # FTS5 applies itself (a list of ids it would check against every match).
        sql = (
            "SELECT forums_post_fts.rowid, -bm25(forums_post_fts, 10.0, 1.0) AS rank, "
            "snippet(forums_post_fts, 1, char(2), char(3), '…', 24) "
            f"{self._from()} AND forums_post_fts.rowid >= (SELECT min(id) FROM ({self._newest_matches()})) "
            f"ORDER BY {order} LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [
                *self._params(), *self._params(), settings.FORUMS_SEARCH_MAX_RESULTS,
                page.stop - page.start, page.start,
            ])
            return _load_page(cursor.fetchall())


def highlight(text: str, terms: Terms) -> str:
    """Escape `text` and mark the words searched for (as prefixes, like the search)."""
    if not text:
        return ""
    # A title may hold the sentinels themselves (members can type control characters).
    text = text.replace(MARK_START, "").replace(MARK_END, "")
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(word) for word in sorted(set(terms.words), key=len, reverse=True)) + r")\w*",
        re.IGNORECASE | re.UNICODE,
    )
    marked = pattern.sub(lambda match: f"{MARK_START}{match.group(0)}{MARK_END}", text)
    return marks_to_html(marked)


def marks_to_html(text: str) -> str:
    """A snippet with the engines' sentinel marks, escaped, with <mark> around matches."""
    return mark_safe(escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def results_page(terms: Terms, filters: dict, *, include_hidden: bool, page_number):
    """The search page's results: one page of matching posts with their titles and
    snippets marked. `filters` is SearchForm's cleaned data (forum, author's username,
    a date range in the reader's time zone, order). Raises UnknownAuthor when no member
    has that username, Http404 for a page out of range."""
    author = None
    if filters["author"]:
        author = get_user_model().objects.filter(username__iexact=filters["author"]).first()
        if author is None:
            raise UnknownAuthor(filters["author"])
    tz = timezone.get_current_timezone()
    since, until = filters["since"], filters["until"]
    posts = search_posts(
        terms,
        include_hidden=include_hidden,
        order=filters["order"] or "relevance",
        forum=filters["forum"],
        author=author,
        since=datetime.combine(since, time.min, tz) if since else None,
        # The whole last day: up to the start of the next.
        until=datetime.combine(until + timedelta(days=1), time.min, tz) if until else None,
    )
    page = page_or_404(Paginator(posts, RESULTS_PER_PAGE), page_number)
    for post in page.object_list:
        post.title_html = highlight(post.thread.title, terms)
        post.snippet_html = (
            marks_to_html(post.snippet) if post.snippet else highlight(post.body_text[:240], terms)
        )
    return page
