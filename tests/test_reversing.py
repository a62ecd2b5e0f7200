"""config.reversing: {% url %} and reverse_kept() give what Django's reverse() gives, for
the URLconf, script prefix and language of the moment."""

import pytest
from django.template import Context, Template, engines
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import translation

from config.reversing import reverse_kept


def _render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def test_url_tag_gives_what_reverse_gives():
    page = _render(
        "{% url 'forums:latest' %}|{% url 'forums:thread-detail' 12 slug %}|"
        "{% url 'forums:forum-detail' slug=slug %}|{% url 'forums:forum-about' slug as about %}[{{ about }}]",
        slug="foreign-affairs",
    )

    assert page.split("|") == [
        reverse("forums:latest"),
        reverse("forums:thread-detail", args=[12, "foreign-affairs"]),
        reverse("forums:forum-detail", kwargs={"slug": "foreign-affairs"}),
        f"[{reverse('forums:forum-about', args=['foreign-affairs'])}]",
    ]


def test_url_tag_refuses_what_reverse_refuses():
    with pytest.raises(NoReverseMatch):
        _render("{% url 'forums:thread-detail' 'not-a-number' 'slug' %}")
    with pytest.raises(NoReverseMatch):
        _render("{% url 'forums:no-such-page' %}")
    # Named with "as", a URL that does not reverse is empty, as with Django's tag.
    assert _render("{% url 'forums:no-such-page' as missing %}[{{ missing }}]") == "[]"


def test_kept_urls_follow_the_script_prefix():
    assert reverse_kept("forums:latest") == "/latest/"
    set_script_prefix("/community/")
    try:
        assert reverse_kept("forums:latest") == "/community/latest/"
        assert _render("{% url 'forums:latest' %}") == "/community/latest/"
    finally:
        set_script_prefix("/")
    assert reverse_kept("forums:latest") == "/latest/"


def test_arguments_that_are_not_plain_are_reversed_anew():
    lazy = translation.gettext_lazy("foreign-affairs")
    assert reverse_kept("forums:forum-detail", [lazy]) == reverse("forums:forum-detail", args=["foreign-affairs"])


def test_the_sites_templates_reverse_a_url_once(monkeypatch):
    from config import reversing

    calls = []

    def counted_reverse(*args, **kwargs):
        calls.append(args)
        return reverse(*args, **kwargs)

    monkeypatch.setattr(reversing, "reverse", counted_reverse)
    reversing._reversed.cache_clear()
    pages = [Template("{% url 'forums:forum-about' 'foreign-affairs' %}").render(Context()) for _ in range(3)]

    assert pages == [reverse("forums:forum-about", args=["foreign-affairs"])] * 3
    assert len(calls) == 1


def _with_request(values: dict, request) -> Context:
    """A template context with a request, as a view's has, without the context
    processors (they read the database)."""
    context = Context(values)
    context.request = request
    return context


QUERYSTRINGS = [
    "{% querystring %}",
    "{% querystring page=3 %}",
    "{% querystring page=None highlight='newest' %}",
    "{% querystring highlight=None %}",
    "{% querystring extra page=2 %}",
    "{% querystring extra other page=None %}",
    "{% querystring tags=tags %}",
    "{% querystring flag=True %}",
    "{% querystring plain %}",
]


@pytest.mark.parametrize("source", QUERYSTRINGS)
@pytest.mark.parametrize("query", ["", "page=7", "a=1&a=2&page=3&q=%C3%A9+%26+%3Cb%3E", "highlight=newest&page=x"])
def test_querystring_gives_what_djangos_gives(rf, source, query):
    from django.http import QueryDict
    from django.template import Engine

    djangos = Engine()  # Django's own builtins only
    request = rf.get(f"/t/1/slug/?{query}")
    context = {
        "extra": QueryDict("page=9&b=<x>"), "other": QueryDict("b=2"), "tags": ["a", None, "b&c"],
        "plain": {"page": 1},
    }
    ours = engines["django"].engine.from_string(source)
    expected = djangos.from_string(source).render(_with_request(context, request))

    # Twice: the second comes from what the first kept.
    assert ours.render(_with_request(context, request)) == expected
    assert ours.render(_with_request(context, request)) == expected


def test_a_querystring_is_built_once_for_the_same_query_and_arguments(rf, monkeypatch):
    from django.template import defaulttags

    from config import reversing

    calls = []
    built = defaulttags.querystring

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return built(*args, **kwargs)

    monkeypatch.setattr(defaulttags, "querystring", counted)
    monkeypatch.setattr(reversing, "_QUERYSTRINGS", {})
    template = engines["django"].engine.from_string("{% querystring page=page %}")

    def render(page, query):
        return template.render(_with_request({"page": page}, rf.get(f"/latest/?{query}")))

    assert [render(2, "page=1") for _ in range(3)] == ["?page=2"] * 3
    assert len(calls) == 1
    # Another query string or another argument is another entry.
    assert render(3, "page=1") == "?page=3"
    assert render(2, "page=1&highlight=none") == "?page=2&amp;highlight=none"
    assert len(calls) == 3
