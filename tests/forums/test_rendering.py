from html.parser import HTMLParser
from urllib.parse import urlsplit

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


HOSTILE_INPUTS = [
    # Script in every costume.
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<script>/* */alert(1)//</script>",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    # Event handlers.
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<body onload="alert(1)">',
    '<div onmouseover="alert(1)">hover</div>',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    '<p style="x" onpointerenter=alert(1)>x</p>',
    '<input autofocus onfocus=alert(1)>',
    '<details open ontoggle=alert(1)>',
    '<video><source onerror="alert(1)"></video>',
    '<marquee onstart=alert(1)>x</marquee>',
    # javascript:, data: and other schemes, in Markdown and HTML.
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](file:///etc/passwd)",
    '[x](https://ok.example "title\\" onclick=\\"alert(1))',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![img](javascript:alert(1))",
    '![x](https://evil.example/a.png" onerror="alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    # SVG and MathML.
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
    # Frames, objects, styles, meta, base.
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    # Broken markup and attribute tricks.
    '<a href="https://ok.example"<script>alert(1)</script>>x</a>',
    '<img """><script>alert(1)</script>">',
    '<p title="</p><script>alert(1)</script>">x</p>',
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<a href="https://ok.example" style="position:fixed;top:0">overlay</a>',
    '<table><tr><td background="javascript:alert(1)">x</td></tr></table>',
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <script>alert(1)</script>",
    "- [x](javascript:alert(1))",
]


@pytest.mark.parametrize("source", HOSTILE_INPUTS)
def test_hostile_input_is_inert(source):
    elements = _elements(render_post(source))

    for tag, attrs in elements:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            assert name in {"href", "title", "rel", "class", "align"}, name
            if name == "href":
                # A relative reference (no scheme) stays on this site and is inert.
                assert urlsplit(value).scheme in {"", "http", "https", "mailto"}, value


def test_raw_html_is_shown_as_text():
    assert render_post("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"


def _elements(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_there_are_at_least_fifty_hostile_inputs():
    assert len(set(HOSTILE_INPUTS)) >= 50
