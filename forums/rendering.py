"""The one place that turns what members write into the HTML that pages print.

Three independent layers keep post HTML safe: Python-Markdown here shows raw HTML
in the source as text; `sanitize()` (bleach) removes anything outside the
allowlist; the Content-Security-Policy forbids inline script. The result is stored
on the post at write time, so pages never render Markdown.
"""

import html
import re
from functools import partial

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
    attributes=ALLOWED_ATTRIBUTES,
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


_QUOTE = re.compile(r"<blockquote>(.*?)</blockquote>", re.S)


def quoted_paragraph_count(post_html: str) -> int:
    """Paragraphs inside quotes: the copyright rule allows at most 4 of an article."""
    return sum(block.count("<p>") for block in _QUOTE.findall(post_html))
