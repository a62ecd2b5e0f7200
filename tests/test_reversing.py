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
