"""config.translating: templates that load i18n get Django's tags, and {% translate %}
of a literal gives what Django's gives, in the language of the moment, though its output
is kept."""

import pytest
from django.template import Context, Engine, engines
from django.utils import translation

from config.translating import KeptTranslateNode

# Django's own i18n library, as a template engine without ours would load it.
DJANGOS = Engine(libraries={"i18n": "django.templatetags.i18n"})

SOURCES = [
    '{% translate "Enter a valid value." %}',
    '{% translate "Enter a valid value." as message %}[{{ message }}]',
    '{% translate "Enter a valid value." noop %}',
    '{% translate "Enter a valid value."|upper %}',
    '{% translate "May" context "long month name" %}',
    "{% translate message %}",
    '{% translate "Fish & <chips>" %}|{% autoescape off %}{% translate "Fish & <chips>" %}{% endautoescape %}',
    '{% blocktranslate count counter=n %}{{ counter }} reply{% plural %}{{ counter }} replies{% endblocktranslate %}',
    "{{ 'de'|language_name }}",
]


def _ours(source: str, **context) -> str:
    return engines["django"].from_string("{% load i18n %}" + source).render(context)


def _djangos(source: str, **context) -> str:
    return DJANGOS.from_string("{% load i18n %}" + source).render(Context(context))


@pytest.mark.parametrize("source", SOURCES)
def test_every_i18n_tag_gives_what_djangos_gives_in_each_language(source):
    template = engines["django"].from_string("{% load i18n %}" + source)
    for language in ["en", "de", "fr", "de", "en"]:  # one template, the language changing
        with translation.override(language):
            context = {"message": "Enter a valid value.", "n": 2}
            assert template.render(context) == _djangos(source, **context), language


def test_a_literal_is_kept_and_a_variable_is_not():
    kept = engines["django"].from_string('{% load i18n %}{% translate "Yes" %}').template.nodelist
    anew = engines["django"].from_string("{% load i18n %}{% translate message %}").template.nodelist

    assert [type(node) for node in kept if isinstance(node, KeptTranslateNode)]
    assert not [node for node in anew if isinstance(node, KeptTranslateNode)]


def test_a_literal_is_translated_once_per_language_and_again_when_catalogs_change(monkeypatch, settings):
    message = "Enter a valid value."
    with translation.override("de"):
        german = translation.gettext(message)
    with translation.override("fr"):
        french = translation.gettext(message)
    assert len({message, german, french}) == 3  # Django's own catalogs translate it
    calls = []
    gettext = translation._trans.gettext
    monkeypatch.setattr(translation._trans, "gettext", lambda message: calls.append(message) or gettext(message))
    template = engines["django"].from_string('{% load i18n %}{% translate "Enter a valid value." %}')

    with translation.override("de"):
        assert [template.render({}) for _ in range(3)] == [german] * 3
    assert len(calls) == 1
    with translation.override("fr"):
        assert template.render({}) == french
    assert len(calls) == 2

    settings.LOCALE_PATHS = [*settings.LOCALE_PATHS]  # where catalogs are found changed
    with translation.override("de"):
        assert template.render({}) == german
    assert len(calls) == 3


def test_i18n_is_the_only_template_library_name_taken_twice():
    """Django's check for a library name used by two modules (templates.W003, silenced
    in settings for i18n, which config.translating takes on purpose) finds no other."""
    warnings = [warning.msg for warning in engines["django"].check() if warning.id == "templates.W003"]

    assert warnings == [
        "'i18n' is used for multiple template tag modules: 'config.translating', 'django.templatetags.i18n'"
    ]
