"""`sanitize()` gives back, without asking bleach, HTML that bleach would leave as it is
(forums/rendering.py `_unchanged_by_bleach`). Here both paths must agree, character for
character, on everything a post can be made of: the XSS corpus, the seeds, thousands of
generated Markdown documents, and generated HTML built from the fast path's own tags."""

import random
import tomllib
from pathlib import Path

import pytest

from forums.rendering import (
    _cleaner,
    _cleaner_without_links,
    _markdown,
    _needs_linkify,
    _unchanged_by_bleach,
    sanitize,
)
from tests.security.xss import load_payloads

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _bleach(markup: str) -> str:
    """sanitize() as it was before the fast path: always through bleach."""
    return (_cleaner if _needs_linkify(markup) else _cleaner_without_links).clean(markup)


def _check(documents, *, as_markdown: bool) -> int:
    """Both paths on every document (Markdown rendered first, or taken as HTML) that
    sanitize() gives back without bleach: bleach, with and without linkifying, must give
    it back unchanged too. (Every other document sanitize() hands to bleach itself, as
    _bleach does.) Returns how many took the fast path, so a test can show it was
    exercised."""
    fast, differing = 0, []
    for document in documents:
        markup = _markdown().convert(document) if as_markdown else document
        if _needs_linkify(markup) or not _unchanged_by_bleach(markup):
            continue
        fast += 1
        assert sanitize(markup) == markup
        if _bleach(markup) != markup or _cleaner.clean(markup) != markup:
            differing.append(markup)
    assert differing == []
    return fast


def _seed_bodies() -> list[str]:
    bodies = [(SEEDS / "seed-document.txt").read_text(encoding="utf-8")]
    for thread in tomllib.loads((SEEDS / "threads.toml").read_text(encoding="utf-8"))["threads"]:
        bodies.append(thread["body"].strip())
        bodies.extend(reply["body"].strip() for reply in thread.get("replies", []))
    return bodies


def test_fast_path_agrees_with_bleach_on_the_xss_corpus():
    payloads = load_payloads()
    _check(payloads, as_markdown=True)
    _check(payloads, as_markdown=False)


def test_fast_path_agrees_with_bleach_on_the_seeds():
    bodies = _seed_bodies()
    assert len(bodies) >= 3
    assert _check(bodies, as_markdown=True) >= 1


WORDS = ["garden", "café", "naïve", "日本語", "emoji 🌱", "עברית", "Ünïcödé", "x", "1.", "#", "'quoted'",
         '"double"', "a > b", "a < b", "AT&T", "&amp;", "&copy;", "&#60;", "&#x6A;", "\t", "tab\there",
         "back\\slash", "under_score", "star*", "\x01", "\x0c", "\ufeff", "\ufdd0", "\U0001fffe", "\x85",
         "example.org", "https://example.org/a?b=c&d", "mail@example.org", "<b>bold</b>", "<script>x</script>",
         "<!-- c -->", "<br>", "<p>", "</p>", "javascript:alert(1)", "ftp://x"]


def _inline(rng) -> str:
    text = " ".join(rng.choices(WORDS[:12], k=rng.randint(1, 4)))
    return rng.choice([
        text, f"*{text}*", f"**{text}**", f"_{text}_", f"***{text}***", f"`{text}`", f"~~{text}~~",
        f"[{text}](https://example.org/{rng.randint(1, 9)})", f"![{text}](/pictures/{rng.randint(1, 9)}/a.png)",
        f"![{text}](https://elsewhere.example/a.png)", "<https://example.org>", rng.choice(WORDS),
        f"{text}  \n{text}", f"**{text} *{text}* {text}**",
    ])


def _line(rng) -> str:
    return " ".join(_inline(rng) for _ in range(rng.randint(1, 5)))


def _block(rng, depth: int = 0) -> str:
    kind = rng.choice(["p", "p", "p", "heading", "ul", "ol", "quote", "fence", "indented", "table", "hr",
                       "raw"] + (["nested"] if depth < 2 else []))
    if kind == "heading":
        return "#" * rng.randint(1, 6) + " " + _line(rng)
    if kind in ("ul", "ol"):
        items = []
        for number in range(1, rng.randint(2, 4)):
            marker = "- " if kind == "ul" else f"{number}. "
            item = marker + _line(rng)
            if depth < 2 and rng.random() < 0.3:
                item += "\n\n    " + _block(rng, depth + 1).replace("\n", "\n    ")
            items.append(item)
        return ("\n\n" if rng.random() < 0.3 else "\n").join(items)
    if kind == "quote":
        inner = _block(rng, depth + 1) if depth < 2 else _line(rng)
        return "\n".join("> " + line for line in inner.split("\n"))
    if kind == "fence":
        return f"```{rng.choice(['', 'python', 'html'])}\n{_line(rng)}\n{_line(rng)}\n```"
    if kind == "indented":
        return "    " + _line(rng) + "\n    " + _line(rng)
    if kind == "table":
        return f"| a | b |\n|:--|--:|\n| {_inline(rng)} | {_inline(rng)} |"
    if kind == "hr":
        return rng.choice(["---", "***", "* * *"])
    if kind == "raw":
        return rng.choice(["<div>block</div>", "<p>para</p>", "<pre>\nx</pre>", "<table><td>x</td></table>"])
    if kind == "nested":
        return _block(rng, depth + 1) + "\n\n" + _block(rng, depth + 1)
    return _line(rng) + ("\n" + _line(rng) if rng.random() < 0.3 else "")


def test_fast_path_agrees_with_bleach_on_generated_markdown():
    rng = random.Random(20)
    documents = [
        ("\r\n" if rng.random() < 0.05 else "\n\n").join(_block(rng) for _ in range(rng.randint(1, 6)))
        for _ in range(3000)
    ]
    fast = _check(documents, as_markdown=True)
    assert fast >= 100


TAGS = ["p", "em", "strong", "b", "i", "del", "code", "blockquote", "ul", "ol", "li", "pre", "h1", "h3", "h6"]
TEXTS = ["words", " ", "\n", "\n\n", "\t", "café 🌱", "x\n", '"quoted"', "'", "a>b", "a<b", "&", "\r", "\x00",
         "\x0b", "\x7f", "\ufeff", "\ufffe", "\U0010ffff", "\U0001f600", "=", "/"]


def _html(rng, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.35 or depth > 4:
            parts.append(rng.choice(TEXTS))
        elif roll < 0.45:
            parts.append(rng.choice(["<br>", "<hr>"]))
        elif roll < 0.5:
            parts.append(rng.choice(["</p>", "<p>", "</li>", "<li>", "</em>", "<pre>"]))  # unbalanced
        else:
            name = rng.choice(TAGS)
            parts.append(f"<{name}>{_html(rng, depth + 1)}</{name}>")
    return "".join(parts)


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_agrees_with_bleach_on_generated_html(seed):
    """Tag soup from the fast path's own vocabulary, mostly in nestings Markdown never
    writes: whatever the fast path takes, bleach must give back unchanged."""
    rng = random.Random(seed)
    documents = [_html(rng) for _ in range(2500)]
    documents += ["<pre><code>x</code></pre>", "<pre>\n<code>x</code></pre>", "<ul>\n<li>a<ul><li>b</li></ul></li>\n</ul>",
                  "<p><em>a<strong>b</strong></em></p>", "<ol><li><p>a</p></li></ol>"]
    fast = _check(documents, as_markdown=False)
    assert fast >= 100


@pytest.mark.parametrize(
    "markup",
    [
        "<p>a &amp; b</p>", "<p>a > b</p>", "<p>a\rb</p>", "<p>a\x01b</p>", "<p><em><em>x</em></em></p>",
        "<p><p>x</p></p>", "<p><ul><li>x</li></ul></p>", "<li>x</li>", "<ul>x</ul>", "<pre>\nx</pre>",
        "<pre><code>x</code>\n</pre>", '<p class="x">y</p>', "<p>open", "<table><tr><td>x</td></tr></table>",
        "<br/>", "text outside any paragraph",
    ],
)
def test_fast_path_leaves_to_bleach_what_bleach_might_change(markup):
    assert not _unchanged_by_bleach(markup)
