"""The one place that turns what members write into the HTML that pages print.

Three independent layers keep post HTML safe: Python-Markdown here shows raw HTML
in the source as text; `sanitize()` (bleach) removes anything outside the
allowlist; the Content-Security-Policy forbids inline script. The result is stored
on the post at write time, so pages never render Markdown.

Images stay only when they are this site's own pictures (forums.pictures); any other
image becomes a plain link to it, so reading a post never asks another site for
anything (and the CSP's `img-src 'self'` would block it anyway).

`sanitize()` skips bleach only for HTML it can prove bleach would return unchanged:
bare allowlisted tags without attributes, in the nesting Markdown writes, around text
holding no `<`, `>`, `&` nor any character bleach or html5lib rewrite. Such HTML has
nothing to remove, escape, repair or linkify; the reasoning is beside
`_unchanged_by_bleach`, and tests/forums/test_rendering_fast_path.py checks both paths
agree on the XSS corpus, the seeds and generated documents.
"""

import html
import re
import threading
from functools import partial
from urllib.parse import unquote

import xml.etree.ElementTree as etree

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from django.utils.html import strip_tags
from markdown.treeprocessors import Treeprocessor

from .pictures import PICTURE_URL

MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "strong", "table",
        "tbody", "td", "th", "thead", "tr", "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "code": ["class"],
    "img": ["src", "alt", "loading"],
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
    if tag == "img" and name == "src" and not PICTURE_URL.match(value):
        return False
    return name in ALLOWED_ATTRIBUTES.get(tag, ())


def _set_link_rel(attrs, new=False):
    attrs[(None, "rel")] = LINK_REL
    return attrs


class _OwnPicturesOnly(Treeprocessor):
    """`![alt](address)` shows a picture only when the address is one of this site's
    pictures; any other address becomes a link, its text the alt text (or the address)."""

    def run(self, root):
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag != "img":
                    continue
                address = child.get("src", "")
                if PICTURE_URL.match(address):
                    child.set("loading", "lazy")
                    continue
                link = etree.Element("a", {"href": address})
                link.text, link.tail = child.get("alt") or address, child.tail
                parent[index] = link


def _markdown_without_raw_html() -> markdown.Markdown:
    md = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
    # Raw HTML blocks and inline tags are then treated as text and escaped.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # After the inline patterns (20), which make the images.
    md.treeprocessors.register(_OwnPicturesOnly(md), "own_pictures_only", 15)
    return md


_per_thread = threading.local()


def _markdown() -> markdown.Markdown:
    """This thread's parser, reset for the next document. Building one costs as much as
    converting a short post (a bulk import renders a million); an instance is not safe
    to share between threads, and reset() is how Python-Markdown converts many."""
    md = getattr(_per_thread, "markdown", None)
    if md is None:
        md = _per_thread.markdown = _markdown_without_raw_html()
    return md.reset()


_CLEANING = {
    "tags": ALLOWED_TAGS,
    "attributes": _allowed_attribute,
    "protocols": ALLOWED_PROTOCOLS,
    "strip": True,
    "strip_comments": True,
}
_cleaner = bleach.Cleaner(
    **_CLEANING,
    filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], skip_tags=["pre", "code"])],
)
# The same cleaning without linkifying, for HTML in which linkifying has nothing to do.
_cleaner_without_links = bleach.Cleaner(**_CLEANING)


def _needs_linkify(markup: str) -> bool:
    """Whether linkifying could change this HTML: it has a link (the filter sets each
    link's rel), an entity (the filter decodes what `&amp;` spells out, `&amp;lt;`
    becoming `&lt;`), or text the filter would make a link of (bleach's own pattern;
    searching the whole document also looks across tags, which only errs towards
    linkifying). A tenth of a post's rendering, left out for most posts of a bulk import."""
    return "<a" in markup or "&" in markup or bleach.linkifier.URL_RE.search(markup) is not None


# -- HTML that bleach would give back unchanged --------------------------------------------
#
# Most posts come out of Markdown as paragraphs, emphasis, quotes and lists of plain words,
# and bleach's parse of those (two thirds of a post's rendering in a bulk import) gives
# back the very same string. `_unchanged_by_bleach` recognises such HTML; sanitize()
# returns it as it is and sends everything else through bleach. It holds exactly when:
#
# - every tag is one of the bare tags below (no attributes, so nothing to clean or
#   linkify, and bleach writes an allowed tag without attributes as `<name>`, void ones
#   without a closing tag, exactly as Python-Markdown writes them for output_format="html");
# - the text holds no `<`, `>` or `&` (bleach escapes `>` and reads `&` as an entity),
#   and no character html5lib or bleach rewrite or drop: NUL, carriage returns, the C0
#   and C1 controls and non-characters (bleach turns controls into "?"), lone
#   surrogates and a byte-order mark;
# - every element is closed, in order, and sits only where Markdown puts it: text and
#   phrasing in paragraphs, headings and list items, blocks only in the top level, quotes
#   and list items, list items only in lists, exactly one bare <code> in a <pre>, and no
#   phrasing element inside another of its name. In that nesting html5lib's tree
#   building has nothing to repair: no start tag closes an open <p>, <li> or heading, no
#   end tag is implied or stray, the list of active formatting elements never needs
#   reconstructing (and never holds three of a kind), no newline follows <pre>, no
#   table reorders anything, so the tree it builds is the one written, and its
#   serialiser writes it back character for character. Linkifying is not needed either:
#   there are no links and no `&`, and `_needs_linkify` is asked first all the same.
#
# tests/forums/test_rendering_fast_path.py compares the two paths on the XSS corpus, the
# seeds and thousands of generated documents.

_PHRASING = frozenset({"b", "code", "del", "em", "i", "strong"})
_TEXT_HOLDERS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"}) | _PHRASING
_BLOCKS = frozenset({"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre", "ul"})
# What each element may hold: "text" for any text, otherwise whitespace only.
_CONTENT = {
    None: _BLOCKS,  # the top level
    "blockquote": _BLOCKS,
    "ol": frozenset({"li"}),
    "ul": frozenset({"li"}),
    "li": _BLOCKS | _PHRASING | {"br", "text"},
    "pre": frozenset({"code"}),
    **{name: _PHRASING | {"br", "text"} for name in _TEXT_HOLDERS},
}
_VOID = frozenset({"br", "hr"})
_TAG = re.compile(r"<(/?)([a-z0-9]{1,10})>|[<>]")
# Besides `<>&`: NUL, C0 controls but tab and newline, DEL and C1 controls, surrogates,
# the byte-order mark and the non-characters html5lib reports.
_REWRITTEN = re.compile(
    r"[&\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufeff\ufffe\uffff"
    + "".join(rf"\U{plane:04X}FFFE\U{plane:04X}FFFF" for plane in range(1, 17))
    + "]"
)
_SPACE = frozenset(" \t\n")


def _unchanged_by_bleach(markup: str) -> bool:
    """Whether bleach would give this HTML back as it is (see the comment above)."""
    if _REWRITTEN.search(markup):
        return False
    open_elements: list[str | None] = [None]
    position = 0
    for tag in _TAG.finditer(markup):
        parent = open_elements[-1]
        if tag.start() > position and "text" not in _CONTENT[parent] and not _SPACE.issuperset(
                markup[position:tag.start()]):
            return False
        position = tag.end()
        closing, name = tag.groups()
        if name is None:
            return False  # a lone < or >
        if closing:
            if name != parent or parent is None:
                return False
            open_elements.pop()
            if name == "pre" and markup[tag.start() - 7:tag.start()] != "</code>":
                return False
            continue
        allowed = _CONTENT.get(parent, ())
        if name not in allowed or (name in _PHRASING and name in open_elements):
            return False
        if parent == "pre" and markup[tag.start() - 5:tag.start()] != "<pre>":
            return False  # only one <code>, right after <pre>
        if name not in _VOID:
            open_elements.append(name)
    if position < len(markup) and "text" not in _CONTENT[open_elements[-1]] and not _SPACE.issuperset(
            markup[position:]):
        return False
    return open_elements == [None]


def sanitize(markup: str) -> str:
    """The only call into bleach (its 6.x line is final), so it can be swapped here."""
    if _needs_linkify(markup):
        return _cleaner.clean(markup)
    if _unchanged_by_bleach(markup):
        return markup
    return _cleaner_without_links.clean(markup)


def render_post(source: str) -> str:
    """Markdown source -> safe HTML for storing on a Post."""
    return sanitize(_markdown().convert(source))


# A tag of sanitized HTML: bleach writes every attribute value in double quotes, with
# `"` escaped inside it, and `<` outside tags only as `&lt;`.
_SANITIZED_TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')


def plain_text(post_html: str) -> str:
    """The words of rendered post HTML, for search and for subjects. Post HTML comes
    from `sanitize`, so its tags are removed with a pattern (strip_tags' HTML parser
    took a tenth of a bulk import's rendering); other HTML goes through strip_tags."""
    if "<!" in post_html or "<?" in post_html:
        return " ".join(html.unescape(strip_tags(post_html)).split())
    return " ".join(html.unescape(_SANITIZED_TAG.sub("", post_html)).split())


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


_PICTURE = re.compile(r"<img\b[^>]*>")
_PICTURE_ID = re.compile(r'\bsrc="/pictures/([0-9]+)/')
_PICTURE_ALT = re.compile(r'\balt="\s*[^"\s]')


def placed_pictures(post_html: str) -> tuple[list[int], int]:
    """The ids of the site's pictures a post shows, in order and once each, and how many
    of its images have no alt text. Post HTML comes from `sanitize`, so every image is
    one of the site's pictures and its attributes are written this way."""
    ids, without_alt = [], 0
    for tag in _PICTURE.findall(post_html):
        found = _PICTURE_ID.search(tag)
        if found and int(found.group(1)) not in ids:
            ids.append(int(found.group(1)))
        without_alt += not _PICTURE_ALT.search(tag)
    return ids, without_alt


_ALT = re.compile(r'\balt="([^"]*)"')


def without_pictures(post_html: str, picture_ids) -> str:
    """Post HTML with the given pictures replaced by their alt text, for pictures that are
    gone (their owner left). The alt text comes escaped from `sanitize`."""
    gone = {int(pk) for pk in picture_ids}

    def replace(match):
        found = _PICTURE_ID.search(match.group(0))
        if not found or int(found.group(1)) not in gone:
            return match.group(0)
        alt = _ALT.search(match.group(0))
        return f"[{alt.group(1)}]" if alt else ""

    return _PICTURE.sub(replace, post_html)
