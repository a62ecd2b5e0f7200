from html.parser import HTMLParser

import pytest

from forums.rendering import ALLOWED_TAGS, render_post


def test_markdown_features_render():
    html = render_post(
        "# Head\n\n*em* **strong** `code`\n\n> quoted\n\n- one\n- two\n\n"
        "```\nfenced <b>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    for fragment in ["<h1>Head</h1>", "<em>em</em>", "<strong>strong</strong>", "<code>code</code>",
                     "<blockquote>", "<li>one</li>", "<pre><code>fenced &lt;b&gt;", "<td>1</td>"]:
        assert fragment in html, fragment


def test_bare_urls_become_safe_links():
    html = render_post("See https://example.org/news for more")
    assert '<a href="https://example.org/news" rel="nofollow ugc noopener">' in html


def test_markdown_links_get_rel():
    assert 'rel="nofollow ugc noopener"' in render_post("[x](https://example.org)")


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="javascript:alert(1)">x</a>',
        "<svg onload=alert(1)>",
        '<iframe src="https://evil.example"></iframe>',
        "![x](https://evil.example/track.png)",
    ],
)
def test_hostile_input_is_inert(source):
    elements = _elements(render_post(source))

    for tag, attrs in elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            if name == "href":
                assert value.split(":", 1)[0] in {"http", "https", "mailto"}, value


def test_raw_html_is_shown_as_text():
    assert render_post("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"


def _elements(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found
