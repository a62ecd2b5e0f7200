"""Every payload of the cross-site scripting corpus through the one Markdown + bleach
pipeline (forums/rendering.py): what comes out must hold no way to run script.

Posts, replies, previews, edits and private messages all store `render_post(body)`,
so this covers every Markdown field; tests/browser/test_xss.py loads the pages.
"""

import pytest

from forums.rendering import render_post, sanitize

from .xss import executable_vectors, load_payloads, url_scheme

PAYLOADS = load_payloads()


def test_corpus_has_300_payloads_of_every_kind():
    assert len(PAYLOADS) >= 300
    kinds = {
        "script element": "<script>",
        "event handler": " onerror=",
        "javascript: link": "](javascript:",
        "data: link": "](data:",
        "vbscript: link": "](vbscript:",
        "javascript: image": "![x](javascript:",
        "data: image": "![x](data:",
        "reference-style link": "]: javascript:",
        "autolink": "<javascript:",
        "hex entity scheme": "&#x6A;avascript",
        "decimal entity scheme": "&#106;avascript",
        "percent-encoded scheme": "%6Aavascript",
        "tab in the scheme": "java\tscript:",
        "newline in the scheme": "java\nscript:",
        "SVG": "<svg",
        "MathML": "<math",
        "template injection": "{{7*7}}",
        "textarea breaker": "</textarea>",
        "title breaker": "</title>",
        "nested tags": "<scr<script>ipt>",
        "polyglot": "jaVasCript:/*-/*`/*",
    }
    missing = [kind for kind, sample in kinds.items() if not any(sample in p for p in PAYLOADS)]
    assert not missing


@pytest.mark.parametrize(
    "html",
    [
        '<img src=x onerror="alert(1)">',
        "<script>alert(1)</script>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="\x01javascript:alert(1)">x</a>',
        '<a href="javascript%3Aalert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<p style="color:red">x</p>',
        "<svg><a>x</a></svg>",
        "<span>not in the allowlist</span>",
    ],
)
def test_checker_finds_executable_html(html):
    """The checker itself: each of these must be reported, or the corpus test could
    pass by looking at nothing."""
    assert executable_vectors(html)


def test_checker_accepts_safe_links():
    html = (
        '<p><a href="https://example.org/?next=javascript:x" rel="nofollow">a</a> '
        '<a href="/t/1/">b</a> <a href="mailto:a@example.org">c</a> &lt;script&gt;</p>'
    )
    assert executable_vectors(html) == []
    assert url_scheme("  HTTPS://example.org") == "https"


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{n}" for n in range(len(PAYLOADS))])
def test_rendered_payload_cannot_run_script(payload):
    html = render_post(payload)
    assert executable_vectors(html) == [], (payload, html)
    # Sanitising again changes nothing: browsers parse the stored HTML as bleach did,
    # so no element can come alive on a second parse (mutation XSS).
    assert sanitize(html) == html


def test_percent_encoded_scheme_loses_its_link():
    """Browsers read "javascript%3Aalert(1)" as a relative link, but feed readers and
    mail clients may decode it: the pipeline keeps the text and drops the address."""
    assert render_post("[x](javascript%3Aalert(1))") == '<p><a rel="nofollow ugc noopener">x</a></p>'
    assert render_post("[x](java%09script:alert(1))") == '<p><a rel="nofollow ugc noopener">x</a></p>'
    assert 'href="https://example.org/a%20b"' in render_post("[x](https://example.org/a%20b)")
