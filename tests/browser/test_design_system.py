"""The design system's ground rules, checked on the files (no browser needed): one small
stylesheet with every shared component in it, and every word of the interface marked
for translation."""

import gzip
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STYLESHEET = ROOT / "static" / "css" / "site.css"
TEMPLATES = ROOT / "templates"

# Components that templates on many pages share; each needs a rule in site.css.
COMPONENTS = [
    "site-header", "site-menu", "site-nav", "account-nav", "site-search", "skip-link",
    "visually-hidden", "breadcrumbs", "forum-list", "thread-list", "post", "post-header",
    "post-body", "post-actions", "reply-tree", "reply-list", "in-reply-to", "field",
    "errorlist", "helptext", "form-actions", "button", "button-secondary", "button-danger",
    "link-button", "pagination", "notice", "notice-success", "notice-warning", "notice-error",
    "badge", "badge-star", "badge-host", "badge-staff", "badge-new", "badge-count",
    "badge-pinned", "sponsor", "thread-tools", "host-tools", "page-actions", "search-form",
    "search-results", "preview", "profile-facts", "notification-list", "is-highlighted",
    "new-marker",
]


def _rules(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.S)


def test_one_stylesheet_under_20_kb_compressed():
    css = STYLESHEET.read_bytes()
    assert len(gzip.compress(css, compresslevel=9)) < 20 * 1024
    assert sorted(path.name for path in (ROOT / "static").rglob("*.css")) == ["site.css"]
    for template in TEMPLATES.rglob("*.html"):
        for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', template.read_text()):
            assert "css/site.css" in href, (template.name, href)


def test_every_shared_component_has_a_style():
    styled = set(re.findall(r"\.([a-zA-Z][\w-]*)", _rules(STYLESHEET.read_text())))
    assert [name for name in COMPONENTS if name not in styled] == []


def test_every_theme_colour_has_a_light_and_a_dark_value():
    """One declaration per colour, light-dark(light, dark): a colour added for one theme
    only would leave the other theme's text on the wrong background.
    (test_look_and_feel checks the themes' backgrounds in Chromium.)"""
    tokens = re.search(r":root \{(.*?)\}", _rules(STYLESHEET.read_text()), re.S).group(1)
    theme_colours = dict(re.findall(r"(--(?!hd-|fs|s\d|font|mono|radius|measure|page|indent|tap)[\w-]+):\s*([^;]+);", tokens))
    assert len(theme_colours) >= 17
    one_sided = {name: value for name, value in theme_colours.items() if not re.search(r"light-dark\([^,]+,[^)]+\)", value)}
    assert one_sided == {}


def test_interface_text_in_templates_is_marked_for_translation():
    """Words between tags, and in alt, title, placeholder and aria-label attributes, come
    from {% translate %}, {% blocktranslate %} or data ({{ ... }}), never straight from
    the template."""
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        text = re.sub(r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}", "", text, flags=re.S)
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", text, flags=re.S)
        untagged = re.sub(r"{%.*?%}|{{.*?}}", "", text, flags=re.S)
        for attribute in re.findall(r'(?:alt|title|placeholder|aria-label)="([^"]*)"', untagged):
            if re.search(r"[A-Za-z]{2}", attribute):
                problems.append(f"{template.relative_to(TEMPLATES)}: attribute text {attribute!r}")
        visible = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
        visible = re.sub(r"<!doctype[^>]*>|<[^>]+>", " ", visible, flags=re.S | re.I)
        words = re.findall(r"[A-Za-z][A-Za-z']+", visible)
        if words:
            problems.append(f"{template.relative_to(TEMPLATES)}: {' '.join(words)[:120]}")
    assert problems == []
