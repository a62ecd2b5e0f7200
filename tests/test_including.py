"""config.including: {% include_kept %} renders a partial with only the values it is
given, and keeps its output for the process under them and what else an output
depends on (the language, a safe string's safety, the query string)."""

import pytest
from django.http import QueryDict
from django.template import Context, Engine, TemplateSyntaxError, engines
from django.template.base import Template
from django.utils import translation
from django.utils.safestring import mark_safe

import config.including

PARTIALS = {
    "partial.html": "[{{ a }}|{{ b }}|{{ secret }}]",
    "words.html": '{% load i18n %}{% translate "Enter a valid value." %} {{ a }}',
}


@pytest.fixture
def engine():
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", PARTIALS)],
        builtins=["config.reversing", "config.including"],
        libraries={"i18n": "config.translating"},
    )


@pytest.fixture
def renders(monkeypatch):
    """The partials' renders, by name, as they happen."""
    made = []
    render = Template.render

    def counted(self, context):
        if self.name in PARTIALS:
            made.append(self.name)
        return render(self, context)

    monkeypatch.setattr(Template, "render", counted)
    return made


def test_a_kept_partial_sees_only_the_values_it_is_given(engine):
    page = engine.from_string('{% include_kept "partial.html" a=a b="two" %}')

    assert page.render(Context({"a": 1, "secret": "from the page"})) == "[1|two|]"


def test_the_same_values_render_the_partial_once_and_other_values_again(engine, renders):
    page = engine.from_string('{% include_kept "partial.html" a=a %}')

    outputs = [page.render(Context({"a": value})) for value in ["x", "x", "y", "x", 3, "3"]]

    assert outputs == ["[x||]", "[x||]", "[y||]", "[x||]", "[3||]", "[3||]"]
    assert renders == ["partial.html"] * 4  # x, y, the number 3 and the text "3"


def test_a_kept_partial_is_in_the_language_of_the_request(engine):
    page = engine.from_string('{% include_kept "words.html" a="!" %}')
    said = {}
    for language in ["en", "de", "en", "de"]:
        with translation.override(language):
            said.setdefault(language, set()).add(page.render(Context()))
            expected = translation.gettext("Enter a valid value.") + " !"
        assert said[language] == {expected}
    assert said["en"] != said["de"]


def test_a_safe_string_and_the_same_text_unsafe_are_kept_apart(engine):
    page = engine.from_string('{% include_kept "partial.html" a=a %}')

    assert page.render(Context({"a": mark_safe("<b>")})) == "[<b>||]"
    assert page.render(Context({"a": "<b>"})) == "[&lt;b&gt;||]"


def test_a_value_that_makes_no_key_renders_the_partial_every_time(engine, renders):
    page = engine.from_string('{% include_kept "partial.html" a=a %}')

    assert page.render(Context({"a": ["one"]})) == "[[&#x27;one&#x27;]||]"
    assert page.render(Context({"a": ["two"]})) == "[[&#x27;two&#x27;]||]"
    assert renders == ["partial.html", "partial.html"]


def test_pagination_links_keep_each_request_s_own_query_string():
    page = engines["django"].from_string(
        '{% include_kept "forums/_pagination.html" number=2 pages=3 query=query %}'
    )

    newest = page.render({"query": QueryDict("highlight=newest&page=2")})
    plain = page.render({"query": QueryDict("page=2")})

    assert 'href="?highlight=newest&amp;page=1"' in newest and 'href="?highlight=newest&amp;page=3"' in newest
    assert 'href="?page=1"' in plain and 'href="?page=3"' in plain and "highlight" not in plain
    assert "Page 2 of 3" in plain
    assert page.render({"query": QueryDict(), "number": 1}) == page.render({"query": QueryDict()})


def test_kept_outputs_are_bounded(engine, monkeypatch):
    monkeypatch.setattr(config.including, "_KEPT", {})
    monkeypatch.setattr(config.including, "_KEPT_MOST", 2)
    page = engine.from_string('{% include_kept "partial.html" a=a %}')

    outputs = [page.render(Context({"a": n})) for n in range(5)]

    assert outputs == [f"[{n}||]" for n in range(5)]
    assert 1 <= len(config.including._KEPT) <= 2


@pytest.mark.parametrize("source", [
    "{% include_kept %}",
    "{% include_kept partial.html %}",
    '{% include_kept "partial.html" a %}',
    '{% include_kept "partial.html" a=1 b %}',
])
def test_a_malformed_include_kept_is_a_syntax_error(engine, source):
    with pytest.raises(TemplateSyntaxError):
        engine.from_string(source)
