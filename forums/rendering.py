"""The one place that turns what members write into the HTML that pages print.

Three independent layers keep post HTML safe: Python-Markdown here shows raw HTML
in the source as text; `sanitize()` (bleach) removes anything outside the
allowlist; the Content-Security-Policy forbids inline script. The result is stored
on the post at write time, so pages never render Markdown.
"""

import html
import re
from functools import partial
from urllib.parse import unquote

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from django.utils.html import strip_tags

MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table",
        "tbody", "td", "th", "thead", "tr", "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "code": ["class"],
    "td": ["align"],
    "th": ["align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Browsers drop leading C0 controls and spaces, and tabs and newlines anywhere, before
# reading a URL's scheme.
_URL_NOISE = re.compile(r"^[\x00-\x20]+|[\t\n\r]")


def _safe_address(value: str) -> bool:
    """Whether a link's address, percent-encoding undone, names no scheme or an allowed
    one. Bleach checks the entity-decoded address; "javascript%3Aalert(1)" would pass
    it as a relative link, which browsers leave alone but other readers of the HTML
    (feed readers, mail clients) may decode."""
    match = _SCHEME.match(_URL_NOISE.sub("", unquote(value)))
    return match is None or match.group(1).lower() in ALLOWED_PROTOCOLS


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a" and name == "href" and not _safe_address(value):
        return False
    return name in ALLOWED_ATTRIBUTES.get(tag, ())


def _set_link_rel(attrs, new=False):
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _markdown_without_raw_html() -> markdown.Markdown:
    md = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
    # Raw HTML blocks and inline tags are then treated as text and escaped.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], skip_tags=["pre", "code"])],
)


def sanitize(html: str) -> str:
    """The only call into bleach (its 6.x line is final), so it can be swapped here."""
    return _cleaner.clean(html)


def render_post(source: str) -> str:
    """Markdown source -> safe HTML for storing on a Post."""
    return sanitize(_markdown_without_raw_html().convert(source))


def plain_text(post_html: str) -> str:
    """The words of rendered post HTML, for search and for subjects."""
    return " ".join(html.unescape(strip_tags(post_html)).split())


def searchable_text(post_html: str, *, poll_question: str = "") -> str:
    """What search indexes of a post's body (Post.body_text): its words and, for an
    opening post with a poll, the poll's question, so that searching finds polls."""
    return " ".join(filter(None, [plain_text(post_html), poll_question]))


_QUOTE = re.compile(r"<blockquote>(.*?)</blockquote>", re.S)
# A quote holding no other quote: removing these until none is left removes nested
# quotes whole. Post HTML comes from `sanitize`, so the tag is always written this way.
_INNERMOST_QUOTE = re.compile(r"<blockquote>(?:(?!<blockquote>).)*?</blockquote>", re.S)


def quoted_paragraph_count(post_html: str) -> int:
    """Paragraphs inside quotes: the copyright rule allows at most 4 of an article."""
    return sum(block.count("<p>") for block in _QUOTE.findall(post_html))


def own_words(post_html: str) -> str:
    """The words of rendered post HTML outside its quotes: what the author wrote."""
    previous = None
    while previous != post_html:
        previous, post_html = post_html, _INNERMOST_QUOTE.sub(" ", post_html)
    return plain_text(post_html)
