"""Full-text search over thread titles and post bodies, on SQLite (FTS5) and
PostgreSQL (tsvector + GIN), giving the same results on both.

Members' queries never reach either engine's query language: words and "quoted
phrases" are picked out here and the engine query is built from them, so quotes,
operators and odd characters can't cause errors or do anything unexpected. Every
word matches as a prefix ("elect" finds "election").
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.utils import timezone
from django.utils.functional import cached_property
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
    """The author filter names no member; the message is accounts.forms.UNKNOWN_MEMBERS."""


QUERY_TOO_LONG = gettext_noop("Search for at most 200 characters.")
QUERY_NO_WORDS = gettext_noop("Type at least one word (letters or numbers) to search for.")


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
    """FTS5: a lone word matches as a prefix ("word"*), a group as a phrase; all must match."""
    return " ".join(
        f'"{group[0]}"*' if len(group) == 1 else '"' + " ".join(group) + '"'
        for group in terms.groups
    )


def _tsquery(terms: Terms) -> str:
    """tsquery: a lone word matches as a prefix ('word':*), a group as a phrase (<->); all must match."""
    return " & ".join(
        f"'{group[0]}':*" if len(group) == 1 else "(" + " <-> ".join(f"'{word}'" for word in group) + ")"
        for group in terms.groups
    )


def search_posts(terms: Terms, *, include_hidden: bool = False, order: str = "relevance",
                 forum=None, author=None, since=None, until=None):
    """Posts matching all terms, newest or most relevant first, each with `rank` and a
    `snippet` whose matches are wrapped in MARK_START/MARK_END. Returns something a
    Paginator can page (counted, then sliced), with the engine's work done per page."""
    if connection.vendor == "postgresql":
        return _PostgresResults(
            terms, order=order, include_hidden=include_hidden, forum=forum,
            author=author, since=since, until=until,
        )
    return _Fts5Results(
        terms, order=order, include_hidden=include_hidden, forum=forum,
        author=author, since=since, until=until,
    )


def _load_page(rows) -> list:
    """Posts of a page of (id, rank, snippet) rows, in that order, with what a result
    shows (a snippet of None is made from the post by results_page). Loading them apart keeps joins out of the ranking query, whose row estimates
    for full-text matches are too rough to plan joins on."""
    posts = Post.objects.select_related("thread__forum", "author").in_bulk([row[0] for row in rows])
    results = []
    for post_id, rank, snippet in rows:
        post = posts[post_id]
        post.rank, post.snippet = rank, snippet
        results.append(post)
    return results


# PostgreSQL's full-text index (GIN) finds the posts holding the words, but not the
# newest of them: it makes a bitmap of every post holding each word (too big to stay
# exact for common words) and reads and rechecks every one of those posts, all to keep
# the newest 1,000. For three words in half the posts each that is 800,000 posts and
# 4 s at a million posts. Its row estimates for prefix searches can be far off (8 rows
# for those 216,000), so left to itself the planner takes that road for common words
# too. So search chooses:
# it reads posts newest first and tests each (a walk), or asks the index. A first look
# at the newest PROBE_ROWS posts tells how many posts each road would read: the walk
# until it has found enough matches, the index every post holding all the words,
# whatever the filters and phrases. The look is all a rare word's search reads besides
# the index, so it is kept short: at 2,000 posts it took 8.4 of the 12 ms PostgreSQL
# spent on a search for one rare word (a million posts). 500 posts still hold enough of
# a common word's matches to choose its road, and its walk goes on from where the look
# stopped.
PROBE_ROWS = 500
POST_ID_MAX = 2**63 - 1  # above every post's id (a bigint)
# A post the index reads costs about twice a walked one (at a million posts, 19 us
# against 4 to 10): its bitmap no longer fits in work_mem, and whole pages of posts
# are rechecked.
INDEX_READ_COST = 2
# A forum or author with at most this many posts is walked by listing all its posts
# (from the thread or author index) and testing those newest first, rather than
# reading all posts and skipping other forums' and members'.
GATHER_MAX_POSTS = 50_000
HEADLINE_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2"


def _tsquery_all_words(terms: Terms) -> str:
    """What the index can look up: every word, phrases or not (it keeps no positions)."""
    return " & ".join(
        f"'{group[0]}':*" if len(group) == 1 else " & ".join(f"'{word}'" for word in group)
        for group in terms.groups
    )


def walk_budget(*, wanted: int, read: int, found: int, all_words: int, posts: int,
                gathered_posts: int | None) -> int | None:
    """How many posts to walk for `wanted` matches, or None to ask the index instead,
    from the first look: `found` matches and `all_words` posts holding all the words
    among `read` posts; `posts` in all, `gathered_posts` the gathered author's or
    forum's (None when the walk reads all posts). The road that costs less reading
    is taken."""
    walk_reads = wanted * read / max(found, 1)
    if gathered_posts is not None:
        walk_reads = min(walk_reads, gathered_posts)
    index_cost = posts * all_words / read * INDEX_READ_COST
    if walk_reads > index_cost:
        return None
    # Never more than the index would cost: should the matches thin out further back,
    # the index answers after all, at most twice the cheaper road's cost.
    return max(int(index_cost), read)


def _filter_conditions(*, visible, in_forum, post, include_hidden, forum, author, since, until):
    """The search form's filters as SQL conditions and their parameters, for either
    engine's query: `visible` and `in_forum` are its own SQL, `post` its posts' alias."""
    adapt = connection.ops.adapt_datetimefield_value
    filters = [
        (not include_hidden, visible, None),
        (forum is not None, in_forum, forum and forum.pk),
        (author is not None, f"{post}.author_id = %s", author and author.pk),
        (since is not None, f"{post}.created_at >= %s", since and adapt(since)),
        (until is not None, f"{post}.created_at < %s", until and adapt(until)),
    ]
    conditions = [sql for wanted, sql, _param in filters if wanted]
    params = [param for wanted, _sql, param in filters if wanted and param is not None]
    return conditions, params


class _RankedMatches:
    """What both engines' results share: `matches`, the newest matches as (id, rank)
    with one more than FORUMS_SEARCH_MAX_RESULTS to tell a capped search; a page of
    them newest first or by rank, as the reader chose. A Paginator pages them."""

    matches: list[tuple[int, float]]
    order: str

    @property
    def capped(self) -> bool:
        """More posts match than the newest FORUMS_SEARCH_MAX_RESULTS shown."""
        return len(self.matches) > settings.FORUMS_SEARCH_MAX_RESULTS

    def count(self) -> int:
        return min(len(self.matches), settings.FORUMS_SEARCH_MAX_RESULTS)

    def __len__(self):
        return self.count()

    def page_rows(self, page: slice) -> list[tuple[int, float]]:
        rows = self.matches[: settings.FORUMS_SEARCH_MAX_RESULTS]
        if self.order != "newest":
            rows = sorted(rows, key=lambda row: (-row[1], -row[0]))
        return rows[page]


class _PostgresResults(_RankedMatches):
    """The newest FORUMS_SEARCH_MAX_RESULTS matches that pass the filters, found by the
    cheaper of a walk and the full-text index (see PROBE_ROWS), then ranked, with
    headlines made for the rows of the page only."""

    def __init__(self, terms: Terms, *, order, include_hidden, forum, author, since, until):
        self.tsquery, self.all_words, self.order = _tsquery(terms), _tsquery_all_words(terms), order
        conditions, self.params = _filter_conditions(
            visible="NOT p.is_deleted AND NOT p.is_hidden",
            in_forum="p.thread_id IN (SELECT id FROM forums_thread WHERE forum_id = %s)",
            post="p", include_hidden=include_hidden, forum=forum, author=author, since=since, until=until,
        )
        self.conditions = " AND ".join(conditions) or "TRUE"
        # The posts a walk reads, newest first: all of them, or all of a small author's
        # or forum's, listed from their index (OFFSET 0 keeps the planner from turning
        # the list into a walk through all posts), then sorted by id.
        self.gather, self.gather_params, self.gathered = None, [], None
        if author is not None and author.post_count <= GATHER_MAX_POSTS:
            self.gather, self.gather_params, self.gathered = "author_id = %s", [author.pk], author.post_count
        elif forum is not None and forum.post_count <= GATHER_MAX_POSTS:
            self.gather = "thread_id IN (SELECT id FROM forums_thread WHERE forum_id = %s)"
            self.gather_params, self.gathered = [forum.pk], forum.post_count

    def _read(self, budget: int, before: int) -> tuple[str, list]:
        """SQL for the newest `budget` posts a walk reads with ids below `before`: each
        with its index vector, whether it passes the filters, and its number from 1
        (`n`). Nothing outside can reach into the LIMIT to make the planner use the
        full-text index."""
        columns = "id, thread_id, author_id, created_at, is_deleted, is_hidden"
        if self.gather is None:
            # The vector comes with the row the primary key walk reads anyway.
            return f"""
                SELECT p.id, p.search_vector, ({self.conditions}) AS passes,
                       row_number() OVER (ORDER BY p.id DESC) AS n
                FROM (
                    SELECT {columns}, search_vector FROM forums_post WHERE id < %s ORDER BY id DESC LIMIT %s
                ) p""", [*self.params, before, budget]
        # Only the narrow columns are sorted; each post's vector is then looked up by
        # id as the walk reaches it.
        return f"""
            SELECT p.id, vector.search_vector, ({self.conditions}) AS passes,
                   row_number() OVER (ORDER BY p.id DESC) AS n
            FROM (
                SELECT * FROM (
                    SELECT {columns} FROM forums_post WHERE {self.gather} AND id < %s OFFSET 0
                ) gathered
                ORDER BY id DESC LIMIT %s
            ) p
            JOIN LATERAL (
                SELECT search_vector FROM forums_post m WHERE m.id = p.id OFFSET 0
            ) vector ON true""", [*self.params, *self.gather_params, before, budget]

    @cached_property
    def matches(self) -> list[tuple[int, float]]:
        """(id, rank) of up to FORUMS_SEARCH_MAX_RESULTS + 1 newest matches, newest first
        (one more than are shown tells that there are more). Each road ranks the posts
        it finds while it holds their vectors: ranking them afterwards looked up 1,000
        posts again."""
        wanted = settings.FORUMS_SEARCH_MAX_RESULTS + 1
        read, found, all_words, newest, oldest_read = self._probe(wanted)
        if len(found) >= wanted or read < PROBE_ROWS:
            return found[:wanted]
        budget = walk_budget(
            wanted=wanted, read=read, found=len(found), all_words=all_words, posts=newest,
            gathered_posts=self.gathered,
        )
        if budget is not None and budget > read:
            # The walk goes on where the first look stopped, with what it found.
            matches, complete = self._walk(budget - read, wanted - len(found), before=oldest_read)
            if complete:
                return found + matches
        return self._from_index(wanted)

    def _probe(self, wanted: int) -> tuple[int, list[tuple[int, float]], int, int, int]:
        """The first look: of the newest PROBE_ROWS posts a walk reads, how many there
        are, the matches that pass the filters (id, rank), and how many hold all the
        words; the newest post's id, roughly how many posts there are; and the oldest
        post's id that it read."""
        read, params = self._read(PROBE_ROWS, before=POST_ID_MAX)
        found = "FILTER (WHERE walked.passes AND walked.search_vector @@ to_tsquery('simple', %s))"
        sql = f"""
            SELECT count(*),
                   (array_agg(walked.id ORDER BY walked.id DESC) {found})[:%s],
                   (array_agg(ts_rank(walked.search_vector, to_tsquery('simple', %s)) ORDER BY walked.id DESC)
                    {found})[:%s],
                   count(*) FILTER (WHERE walked.search_vector @@ to_tsquery('simple', %s)),
                   (SELECT max(id) FROM forums_post),
                   min(walked.id)
            FROM ({read}) walked"""
        with connection.cursor() as cursor:
            cursor.execute(sql, [
                self.tsquery, wanted, self.tsquery, self.tsquery, wanted, self.all_words, *params,
            ])
            read_count, ids, ranks, all_words, newest, oldest_read = cursor.fetchone()
        found = list(zip(ids or [], ranks or [], strict=True))
        return read_count, found, all_words, newest or 0, oldest_read or POST_ID_MAX

    def _walk(self, budget: int, wanted: int, *, before: int) -> tuple[list[tuple[int, float]], bool]:
        """The matches (id, rank) among the newest `budget` posts below id `before` that
        the walk reads, and whether that settles the answer: `wanted` matches found, or
        no posts left to read."""
        read, params = self._read(budget, before)
        # The last post read (number `budget`) comes back even when it does not match,
        # so it tells that the walk stopped at the budget, not at the last post.
        matches = "walked.passes AND walked.search_vector @@ to_tsquery('simple', %s)"
        sql = f"""
            SELECT walked.id, walked.n, {matches}, ts_rank(walked.search_vector, to_tsquery('simple', %s))
            FROM ({read}) walked
            WHERE {matches} OR walked.n = %s
            ORDER BY walked.id DESC
            LIMIT %s"""
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.tsquery, self.tsquery, *params, self.tsquery, budget, wanted + 1])
            rows = cursor.fetchall()
        matches = [(post_id, rank) for post_id, _n, found, rank in rows if found][:wanted]
        stopped_at_budget = any(n == budget for _id, n, _found, _rank in rows)
        return matches, len(matches) == wanted or not stopped_at_budget

    def _from_index(self, wanted: int) -> list[tuple[int, float]]:
        """The newest matches (id, rank) through the full-text index: the cheaper road
        when few posts hold all the words. OFFSET 0 keeps the planner from walking the
        primary key instead (it cannot tell rare words from common ones)."""
        sql = f"""
            SELECT newest.id, ts_rank(post.search_vector, to_tsquery('simple', %s))
            FROM (
                SELECT id FROM (
                    SELECT p.id FROM forums_post p
                    WHERE p.search_vector @@ to_tsquery('simple', %s) AND {self.conditions}
                    OFFSET 0
                ) matches
                ORDER BY id DESC
                LIMIT %s
            ) newest
            JOIN forums_post post ON post.id = newest.id
            ORDER BY newest.id DESC"""
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.tsquery, self.tsquery, *self.params, wanted])
            return cursor.fetchall()

    def __getitem__(self, page: slice):
        rows = self.page_rows(page)
        if not rows:
            return []
        # Headlines are costly: made for the page's rows only.
        sql = "SELECT id, ts_headline('simple', body_text, to_tsquery('simple', %s), %s) FROM forums_post WHERE id = ANY(%s)"
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.tsquery, HEADLINE_OPTIONS, [post_id for post_id, _rank in rows]])
            headlines = dict(cursor.fetchall())
        return _load_page([(post_id, rank, headlines[post_id]) for post_id, rank in rows])


BM25_K1, BM25_B, SUBJECT_WEIGHT = 1.2, 0.75, 10


def _bm25(rows) -> list[tuple[int, float]]:
    """(id, rank) for rows of (id, length, then each word's or phrase's occurrences in
    the subject and in the body): FTS5's bm25() with a subject weighing ten times the
    body, as search ranked before, but with every word weighing the same. bm25() read
    every post holding each word once more to weigh rare words above common ones, 110
    ms for three common words at a million posts, and for posts that all hold every
    word that weighing changes little. Lengths are in characters, against the
    candidates' average (bm25() counts words, against the site's average)."""
    if not rows:
        return []
    average_length = max(sum(row[1] for row in rows) / len(rows), 1)
    ranked = []
    for post_id, length, *occurrences in rows:
        saturation = BM25_K1 * (1 - BM25_B + BM25_B * length / average_length)
        rank = 0.0
        for in_subject, in_body in zip(occurrences[::2], occurrences[1::2], strict=True):
            weighed = SUBJECT_WEIGHT * in_subject + in_body
            rank += weighed * (BM25_K1 + 1) / (weighed + saturation)
        ranked.append((post_id, rank))
    return ranked


class _Fts5Results(_RankedMatches):
    """The newest FORUMS_SEARCH_MAX_RESULTS matches of one FTS5 query that pass the
    filters, ranked, from one query whatever the page; snippets are made for the
    page's rows (make_snippet).

    Every word is a prefix ("elect" finds "election"), and for a prefix FTS5 gathers
    every post holding any word that starts with it, each time a query asks: for three
    words each in half the posts, some 120 ms at a million posts, before ranking (whose
    statistics take another pass, 80 ms). Counting, finding the oldest of the newest
    matches and ranking them were three queries, four passes. So the one query ranks
    all the candidates as it finds them, and the page is cut from those."""

    def __init__(self, terms: Terms, *, order, include_hidden, forum, author, since, until):
        self.match, self.order = _fts5_query(terms), order
        self.phrases = [" ".join(group) for group in terms.groups]
        conditions, self.where_params = _filter_conditions(
            visible="forums_post.is_deleted = 0 AND forums_post.is_hidden = 0",
            in_forum="forums_thread.forum_id = %s",
            post="forums_post", include_hidden=include_hidden, forum=forum, author=author, since=since, until=until,
        )
        self.conditions = "".join(f" AND {condition}" for condition in conditions)

    @cached_property
    def matches(self) -> list[tuple[int, float]]:
        """(id, rank) of each of the newest matches, newest first, one more than the
        cap (which tells that there are more): FTS5 walks its matches newest first and
        stops there, however many posts match."""
        # How often each word or phrase occurs in the subject and in the body, and
        # their length, for _bm25.
        occurrences = "".join(
            f", (length({text}) - length(replace({text}, %s, ''))) / length(%s)"
            for _phrase in self.phrases
            for text in ("lower(forums_post.subject)", "lower(forums_post.body_text)")
        )
        sql = (
            "SELECT forums_post_fts.rowid, length(forums_post.subject) + length(forums_post.body_text)"
            f"{occurrences} FROM forums_post_fts JOIN forums_post ON forums_post.id = forums_post_fts.rowid "
            "JOIN forums_thread ON forums_thread.id = forums_post.thread_id "
            f"WHERE forums_post_fts MATCH %s{self.conditions} "
            "ORDER BY forums_post_fts.rowid DESC LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [
                *(phrase for phrase in self.phrases for _text in range(2) for _twice in range(2)),
                self.match, *self.where_params, settings.FORUMS_SEARCH_MAX_RESULTS + 1,
            ])
            return _bm25(cursor.fetchall())

    def __getitem__(self, page: slice):
        return _load_page([(post_id, rank, None) for post_id, rank in self.page_rows(page)])


SNIPPET_WORDS = 24


def _fold(word: str) -> str:
    """A word as SQLite's index keeps it: lower case, accents removed."""
    return "".join(char for char in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(char))


def make_snippet(text: str, terms: Terms) -> str:
    """The stretch of `text` of at most SNIPPET_WORDS words that holds the most of the
    words searched for (then the most matches), with MARK_START/MARK_END around each
    match and "…" where the text is cut, as FTS5's snippet() makes them. Made here for
    the page's rows only: in the search query it cost a snippet for each of the 1,000
    candidates (70 ms at a million posts), and a second query asking FTS5 for the
    page's rows would gather every prefix word's posts again."""
    text = text.replace(MARK_START, "").replace(MARK_END, "")
    tokens = list(_WORD.finditer(text))
    prefixes = tuple(_fold(group[0]) for group in terms.groups if len(group) == 1)
    phrase_words = {_fold(word) for group in terms.groups if len(group) > 1 for word in group}
    hits = []  # (token index, which term) of each match
    for index, token in enumerate(tokens):
        folded = _fold(token.group())
        term = next((prefix for prefix in prefixes if folded.startswith(prefix)), None)
        if term is None and folded in phrase_words:
            term = folded
        if term is not None:
            hits.append((index, term))
    start = 0
    if hits:
        def score(first: int) -> tuple[int, int, int]:
            inside = [term for index, term in hits if first <= index < first + SNIPPET_WORDS]
            return len(set(inside)), len(inside), -first

        # A window opens a few words before a match, so the match reads in context.
        start = max((max(0, index - 3) for index, _term in hits), key=score)
        start = max(0, min(start, len(tokens) - SNIPPET_WORDS))
    window = tokens[start:start + SNIPPET_WORDS]
    if not window:
        return ""
    marked_at = {index for index, _term in hits}
    parts, position = [], window[0].start()
    for index, token in enumerate(window, start):
        parts.append(text[position:token.start()])
        parts.append(f"{MARK_START}{token.group()}{MARK_END}" if index in marked_at else token.group())
        position = token.end()
    before = "…" if start > 0 else ""
    after = "…" if start + len(window) < len(tokens) else text[position:]
    return before + "".join(parts) + after


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
    page.capped = posts.capped
    for post in page.object_list:
        post.title_html = highlight(post.thread.title, terms)
        post.snippet_html = (
            marks_to_html(post.snippet) if post.snippet else marks_to_html(make_snippet(post.body_text, terms))
        )
    return page
