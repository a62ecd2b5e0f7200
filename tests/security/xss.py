"""The cross-site scripting corpus and a checker for executable HTML.

Both the fast rendering test (tests/security/test_xss_corpus.py) and the browser test
(tests/browser/test_xss.py) load the payloads from here.
"""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

PAYLOADS_FILE = Path(__file__).with_name("xss_payloads.txt")

# Characters a line of the payload file cannot hold, or that an editor would lose.
TOKENS = {
    "<<TAB>>": "\t",
    "<<LF>>": "\n",
    "<<CR>>": "\r",
    "<<FF>>": "\f",
    "<<VT>>": "\v",
    "<<NUL>>": "\x00",
    "<<SOH>>": "\x01",
    "<<NBSP>>": "\xa0",
    "<<ZWSP>>": "\u200b",
}

# What a link or image may point to. Relative addresses have no scheme and are allowed.
SAFE_SCHEMES = {"http", "https", "mailto"}

# Tags that may appear in a post's rendered HTML: text formatting only.
SAFE_POST_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}

# Elements that run script, load active content, submit somewhere, restyle or take
# over the page. None may come from what a member wrote.
DANGEROUS_TAGS = {
    "applet", "audio", "base", "embed", "form", "frame", "frameset", "iframe", "img",
    "image", "input", "button", "isindex", "link", "marquee", "math", "meta", "noscript",
    "object", "portal", "script", "select", "source", "style", "svg", "template",
    "textarea", "video", "xmp", "plaintext", "noembed", "noframes", "listing", "keygen",
    "details",
}

URL_ATTRIBUTES = {
    "action", "background", "cite", "data", "dynsrc", "formaction", "href", "lowsrc",
    "ping", "poster", "src", "srcset", "xlink:href", "codebase", "code",
}

# Attributes that are script, style or a document of their own whatever their value.
DANGEROUS_ATTRIBUTES = {"style", "srcdoc", "http-equiv"}

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# The URL parser drops leading and trailing C0 controls and spaces, and every tab
# and newline anywhere (WHATWG URL standard, "basic URL parser").
_URL_STRIP = "".join(chr(n) for n in range(0x21))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def load_payloads() -> list[str]:
    """Every payload in the corpus, control characters restored, without duplicates."""
    payloads = []
    for line in PAYLOADS_FILE.read_text(encoding="utf-8").split("\n"):
        if not line or line.startswith("#:"):
            continue
        for token, character in TOKENS.items():
            line = line.replace(token, character)
        payloads.append(line)
    return list(dict.fromkeys(payloads))


def url_scheme(value: str) -> str:
    """The scheme a browser would see in an attribute value (entities already decoded
    by the parser), or "" for a relative address. Percent-encoding is undone as well,
    so that a scheme hidden that way still counts."""
    for candidate in (value, unquote(value)):
        cleaned = _TAB_OR_NEWLINE.sub("", candidate.strip(_URL_STRIP))
        match = _SCHEME.match(cleaned)
        if match and match.group(1).lower() not in SAFE_SCHEMES:
            return match.group(1).lower()
    match = _SCHEME.match(_TAB_OR_NEWLINE.sub("", value.strip(_URL_STRIP)))
    return match.group(1).lower() if match else ""


class _Inspector(HTMLParser):
    def __init__(self, allowed_tags):
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> element")
        elif self.allowed_tags is not None and tag not in self.allowed_tags:
            self.problems.append(f"<{tag}> element outside the allowlist")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            elif name in DANGEROUS_ATTRIBUTES:
                self.problems.append(f"<{tag} {name}=...> attribute")
            elif name in URL_ATTRIBUTES:
                scheme = url_scheme(value)
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"<{tag} {name}={value!r}>: {scheme}: address")

    handle_startendtag = handle_starttag


# Markup that must never appear as markup; escaped text shows up as &lt;script etc.
_RAW_MARKUP = re.compile(
    r"<\s*/?\s*(script|svg|math|iframe|object|embed|img|style|form|base|meta|link)\b", re.I
)


def executable_vectors(fragment: str, *, allowed_tags=SAFE_POST_TAGS) -> list[str]:
    """What in `fragment` could run script or point somewhere dangerous: an empty list
    when it is safe. `allowed_tags=None` checks a whole page (any tag but the
    dangerous ones)."""
    inspector = _Inspector(allowed_tags)
    inspector.feed(fragment)
    inspector.close()
    problems = inspector.problems
    if allowed_tags is not None:
        problems += [f"raw {match.group(0)!r} in the markup" for match in _RAW_MARKUP.finditer(fragment)]
    return problems


# A whole page of ours: forms, inputs, our own script and images are expected there.
PAGE_DANGEROUS_TAGS = {
    "applet", "audio", "base", "embed", "frame", "frameset", "iframe", "isindex", "marquee",
    "math", "noscript", "object", "portal", "style", "svg", "template", "video", "xmp",
    "plaintext", "noembed", "noframes", "listing", "keygen",
}


class _PageInspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        if tag in PAGE_DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and "http-equiv" in values:
            self.problems.append("<meta http-equiv>")
        if tag == "script" and not values.get("src", "").startswith("/static/"):
            self.problems.append(f"<script {values}>")
        if tag in {"img", "link"}:
            address = values.get("src") or values.get("href") or ""
            if not address.startswith("/") or address.startswith("//"):
                self.problems.append(f"<{tag}> from elsewhere: {address!r}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            elif name in DANGEROUS_ATTRIBUTES:
                self.problems.append(f"<{tag} {name}=...> attribute")
            elif name in URL_ATTRIBUTES:
                scheme = url_scheme(value)
                if scheme and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"<{tag} {name}={value!r}>: {scheme}: address")

    handle_startendtag = handle_starttag


def page_vectors(page: str) -> list[str]:
    """What in a whole page of the site could run script or load something foreign."""
    inspector = _PageInspector()
    inspector.feed(page)
    inspector.close()
    return inspector.problems
