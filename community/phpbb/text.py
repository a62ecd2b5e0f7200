"""phpBB post text to Grassroots Markdown.

phpBB stores a post in one of two ways. 3.2 and later keep s9e/TextFormatter's XML:
`<t>plain text</t>`, or `<r>` with one element per BBCode (`<B><s>[b]</s>bold<e>[/b]</e></B>`,
`<QUOTE author="ann" post_id="12">`, `<E>:)</E>` for smilies, `<br/>` for line breaks).
3.0 and 3.1 keep BBCode with the post's uid in every tag (`[b:1x2y3z4w]bold[/b:1x2y3z4w]`)
in HTML-escaped text, with smilies and automatic links as HTML between comments
(`<!-- s:) --><img ... /><!-- s:) -->`, `<!-- m --><a href="...">...</a><!-- m -->`).

Both are first read into the same element tree (the 3.2 XML's element names), which one
writer turns into Markdown. The Markdown then goes through forums.rendering like
anything a member writes; nothing here makes HTML.
"""

import html
import re
import xml.etree.ElementTree as ElementTree

# Markdown's inline punctuation, escaped wherever it appears in phpBB's plain text, and
# what starts a block when it begins a line.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]])")
_BLOCK_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])", re.M)
ORDERED_LIST_TYPES = {"1", "a", "A", "i", "I", "decimal", "lower-alpha", "upper-alpha",
                      "lower-roman", "upper-roman"}
NO_TEXT = "(no text)"


def is_xml(text: str) -> bool:
    """Whether the text is 3.2+'s XML rather than 3.0/3.1 BBCode."""
    return text.startswith(("<r>", "<t>", "<r ", "<t "))


def parse(text: str, uid: str = "") -> ElementTree.Element:
    """The post as an element tree in phpBB 3.2's vocabulary, whichever way it is stored."""
    if is_xml(text):
        try:
            return ElementTree.fromstring(text)
        except ElementTree.ParseError:
            # Damaged XML: its words, without the tags, are still the post.
            root = ElementTree.Element("t")
            root.text = html.unescape(re.sub(r"<[^>]*>", "", text))
            return root
    return _parse_bbcode(text, uid)


def to_markdown(text: str, uid: str = "") -> str:
    """Markdown for a phpBB post, signature, message or forum description."""
    markdown = _blocks(_children(parse(text, uid)))
    return markdown or NO_TEXT


def to_plain(text: str, uid: str = "") -> str:
    """The words of a phpBB poll question or option on one line, without its markup:
    Grassroots shows those as text."""
    return " ".join(_plain(parse(text, uid)).split())


def quoted_post_ids(text: str, uid: str = "") -> list[int]:
    """The ids of the posts a post quotes (`[quote=... post_id=N]`, 3.2+), in order."""
    if "post_id" not in text:
        return []
    ids = []
    for quote in parse(text, uid).iter("QUOTE"):
        value = quote.get("post_id", "")
        if value.isdigit():
            ids.append(int(value))
    return ids


# -- 3.0/3.1 BBCode ------------------------------------------------------------------------

_SMILEY = re.compile(r"<!-- s(.*?) --><img [^>]*/?><!-- s.*? -->", re.S)
_MAGIC_LINK = re.compile(r'<!-- ([mwle]) --><a [^>]*href="([^"]*)"[^>]*>(.*?)</a><!-- [mwle] -->', re.S)
_HTML_IN_TEXT = re.compile(f"{_SMILEY.pattern}|{_MAGIC_LINK.pattern}", re.S)
# Tags written by phpBB 3.0 for this post: [name], [name=argument], closing tags with the
# list and list-item markers ([/list:u:uid], [/*:m:uid]), each ending in the post's uid.
_TAG_TEMPLATE = r"\[(/?)([a-z*]+[0-9]?)(?:=((?:&quot;.*?&quot;)|[^\]]*?))?(?::[muo])?:{uid}\]"
_ELEMENT_NAMES = {
    "b": "B", "i": "I", "u": "U", "quote": "QUOTE", "code": "CODE", "list": "LIST",
    "*": "LI", "url": "URL", "img": "IMG", "email": "EMAIL", "color": "COLOR",
    "size": "SIZE", "flash": "FLASH", "attachment": "ATTACHMENT",
}


def _parse_bbcode(text: str, uid: str) -> ElementTree.Element:
    root = ElementTree.Element("r")
    stack = [root]

    def add_text(value: str) -> None:
        value = html.unescape(value)
        parent = stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + value
        else:
            parent.text = (parent.text or "") + value

    def add_leaf(tag: str, value: str, **attributes) -> None:
        element = ElementTree.SubElement(stack[-1], tag, attributes)
        element.text = value

    # Smilies and automatic links are HTML in the text: they become elements first.
    tag_pattern = re.compile(_TAG_TEMPLATE.format(uid=re.escape(uid))) if uid else None
    position = 0
    for match in _HTML_IN_TEXT.finditer(text):
        _add_bbcode_run(text[position:match.start()], tag_pattern, stack, add_text)
        smiley = _SMILEY.fullmatch(match.group(0))
        if smiley:
            add_leaf("E", html.unescape(smiley.group(1)))
        else:
            link = _MAGIC_LINK.fullmatch(match.group(0))
            kind, href, label = link.groups()
            label = html.unescape(re.sub(r"<[^>]*>", "", label))
            if kind == "e":
                add_leaf("EMAIL", label, email=html.unescape(href).removeprefix("mailto:"))
            else:
                add_leaf("URL", label, url=html.unescape(href))
        position = match.end()
    _add_bbcode_run(text[position:], tag_pattern, stack, add_text)
    return root


def _add_bbcode_run(text, tag_pattern, stack, add_text) -> None:
    if tag_pattern is None:
        add_text(text)
        return
    position = 0
    for match in tag_pattern.finditer(text):
        add_text(text[position:match.start()])
        position = match.end()
        closing, name, argument = match.group(1), match.group(2), match.group(3)
        tag = _ELEMENT_NAMES.get(name, name.upper())
        if closing:
            # Close up to the matching element; a stray closing tag is dropped.
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].tag == tag:
                    del stack[depth:]
                    break
            continue
        if tag == "LI" and stack[-1].tag == "LI":
            stack.pop()  # [*] without [/*] ends the previous item
        attributes = {}
        if argument is not None:
            argument = html.unescape(argument).strip('"')
            attributes = {
                "QUOTE": {"author": argument}, "URL": {"url": argument},
                "LIST": {"type": argument}, "EMAIL": {"email": argument},
            }.get(tag, {"value": argument})
        element = ElementTree.SubElement(stack[-1], tag, attributes)
        stack.append(element)
    add_text(text[position:])


# -- Markdown writer -------------------------------------------------------------------------


def _escape(text: str) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    # Indentation would make a code block, and "#", ">", "-", "1." at a line's start
    # a heading, quote or list: phpBB showed them as typed.
    text = re.sub(r"\n[ \t]+", "\n", text)
    text = _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    # phpBB shows every line break; in Markdown a single one needs two spaces before it.
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)


def _plain(element: ElementTree.Element) -> str:
    """The element's text as written, without its BBCode markers (for code blocks)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag not in ("s", "e", "i"):
            parts.append("\n" if child.tag == "br" else _plain(child))
        parts.append((child.tail or "").removeprefix("\n") if child.tag == "br" else child.tail or "")
    return "".join(parts)


def _children(element: ElementTree.Element) -> str:
    parts = [_escape(element.text or "")]
    for child in element:
        if child.tag == "br":
            parts.append("  \n")
            parts.append(_escape((child.tail or "").removeprefix("\n")))
            continue
        if child.tag not in ("s", "e", "i"):
            parts.append(_element(child))
        parts.append(_escape(child.tail or ""))
    return "".join(parts)


def _wrap(inner: str, marker: str) -> str:
    """`**bold**` with the spaces kept outside the markers, where Markdown wants them."""
    stripped = inner.strip()
    if not stripped:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()):]
    return f"{lead}{marker}{stripped}{marker}{trail}"


def _link_target(url: str) -> str:
    return url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _element(element: ElementTree.Element) -> str:
    tag = element.tag
    if tag == "B":
        return _wrap(_children(element), "**")
    if tag in ("I", "U"):
        # Markdown has no underline; emphasis is the nearest it has.
        return _wrap(_children(element), "*")
    if tag == "E":
        return _escape(element.text or "")
    if tag == "CODE":
        code = _plain(element).strip("\n")
        fence = "```"
        while fence in code:
            fence += "`"
        return f"\n\n{fence}\n{code}\n{fence}\n\n"
    if tag == "QUOTE":
        inner = _blocks(_children(element))
        author = element.get("author", "").strip()
        if author:
            inner = f"**{_escape(author)} wrote:**\n\n{inner}"
        quoted = "\n".join(f"> {line}".rstrip() for line in inner.split("\n"))
        return f"\n\n{quoted}\n\n"
    if tag == "LIST":
        ordered = element.get("type", "") in ORDERED_LIST_TYPES
        items = []
        for number, item in enumerate((child for child in element if child.tag == "LI"), start=1):
            marker = f"{number}. " if ordered else "- "
            content = _blocks(_children(item)).replace("\n", "\n" + " " * 4)
            items.append(marker + content)
        return "\n\n" + "\n".join(items) + "\n\n"
    if tag == "URL":
        url = element.get("url", "") or _plain(element)
        label = _children(element).strip()
        if not label or _plain(element).strip() == url.strip():
            return f"<{_link_target(url)}>"
        return f"[{label}]({_link_target(url)})"
    if tag == "IMG":
        source = element.get("src", "") or _plain(element).strip()
        return f"[Image: {_escape(source.rsplit('/', 1)[-1]) or 'image'}]({_link_target(source)})"
    if tag == "EMAIL":
        address = element.get("email", "") or _plain(element).strip()
        return f"[{_children(element).strip() or _escape(address)}](mailto:{_link_target(address)})"
    if tag == "ATTACHMENT":
        # 3.0 writes the file name between <!-- ia0 --> comments inside the tag.
        name = element.get("filename") or re.sub(r"<!--.*?-->", "", _plain(element)).strip()
        return f"\\[Attachment: {_escape(name)}\\]"
    if tag == "p":
        return f"\n\n{_children(element)}\n\n"
    # Colours, sizes, fonts and any custom BBCode: their words, without the styling.
    return _children(element)


def _blocks(markdown: str) -> str:
    """Tidy the joined pieces: at most one blank line between blocks, no outer blank space."""
    lines = [line.rstrip() if not line.endswith("  ") else line for line in markdown.split("\n")]
    text = "\n".join(lines)
    # A line break before a blank line or at the end is no line break.
    text = re.sub(r"[ \t]+(\n[ \t]*\n|\n?$)", r"\1", text)
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)
    return text.strip()
