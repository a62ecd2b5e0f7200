"""Full-text search over thread titles and post bodies, on SQLite (FTS5) and
PostgreSQL (tsvector + GIN), giving the same results on both.

Members' queries never reach either engine's query language: words and "quoted
phrases" are picked out here and the engine query is built from them, so quotes,
operators and odd characters can't cause errors or do anything unexpected. Every
word matches as a prefix ("elect" finds "election").
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, FloatField, TextField
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Post

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
MARK_START, MARK_END = "\x02", "\x03"

_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"\w+", re.UNICODE)


class SearchQueryError(ValueError):
    pass


QUERY_TOO_LONG = "Search for at most 200 characters."
QUERY_NO_WORDS = "Type at least one word (letters or numbers) to search for."


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


def search_posts(terms: Terms, *, include_hidden: bool = False, order: str = "relevance"):
    """Posts matching all terms, with `rank` (higher is better) and `snippet`."""
    posts = Post.objects.all()
    if not include_hidden:
        posts = posts.filter(is_deleted=False, is_hidden=False)
    if connection.vendor == "postgresql":
        query = _tsquery(terms)
        posts = posts.filter(
            RawSQL("forums_post.search_vector @@ to_tsquery('simple', %s)", [query], output_field=BooleanField())
        ).annotate(
            rank=RawSQL("ts_rank(forums_post.search_vector, to_tsquery('simple', %s))", [query], output_field=FloatField()),
            snippet=RawSQL(
                "ts_headline('simple', forums_post.body_text, to_tsquery('simple', %s), %s)",
                [query, f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2"],
                output_field=TextField(),
            ),
        )
    else:
        query = _fts5_query(terms)
        match = "SELECT {} FROM forums_post_fts WHERE forums_post_fts MATCH %s AND forums_post_fts.rowid = forums_post.id"
        posts = posts.filter(
            RawSQL(
                "forums_post.id IN (SELECT rowid FROM forums_post_fts WHERE forums_post_fts MATCH %s)",
                [query], output_field=BooleanField(),
            )
        ).annotate(
            # bm25 is lower for better matches; negate it so both engines sort descending.
            rank=RawSQL(f"-({match.format('bm25(forums_post_fts, 10.0, 1.0)')})", [query], output_field=FloatField()),
            snippet=RawSQL(
                f"({match.format('snippet(forums_post_fts, 1, char(2), char(3), ' + chr(39) + '…' + chr(39) + ', 24)')})",
                [query], output_field=TextField(),
            ),
        )
    if order == "newest":
        return posts.order_by("-created_at", "-id")
    return posts.order_by("-rank", "-created_at", "-id")


def highlight(text: str, terms: Terms) -> str:
    """Escape `text` and mark the words searched for (as prefixes, like the search)."""
    if not text:
        return ""
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(word) for word in sorted(set(terms.words), key=len, reverse=True)) + r")\w*",
        re.IGNORECASE | re.UNICODE,
    )
    marked = pattern.sub(lambda match: f"{MARK_START}{match.group(0)}{MARK_END}", text)
    return marks_to_html(marked)


def marks_to_html(text: str) -> str:
    """A snippet with the engines' sentinel marks, escaped, with <mark> around matches."""
    return mark_safe(escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


