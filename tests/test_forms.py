"""config.forms: how the site's forms render."""

import pytest
from django import forms
from django.utils import translation

from accounts.models import TIME_ZONE_CHOICES
from config.forms import KeptOptionsSelect

ATTRS = {"id": "id_time_zone", "required": True}


@pytest.mark.parametrize("value", ["UTC", "Asia/Tokyo", "Mars/Olympus", "", None, ["Europe/Paris"]])
def test_kept_select_renders_what_djangos_select_renders(value):
    """Django's markup to the byte: the chosen option marked, none for a value that is
    no choice, whatever was rendered before it in the same process."""
    kept = KeptOptionsSelect(choices=TIME_ZONE_CHOICES)
    django_select = forms.Select(choices=TIME_ZONE_CHOICES)
    for earlier in ["Africa/Abidjan", "Pacific/Wake"]:
        kept.render("time_zone", earlier, ATTRS)
    assert kept.render("time_zone", value, ATTRS) == django_select.render("time_zone", value, ATTRS)


def test_kept_select_keeps_a_copy_per_name_attributes_choices_and_language():
    choices = [("a", "Apple"), ("b", "Banana & <Bread>")]
    first = KeptOptionsSelect(choices=choices).render("fruit", "b", {"id": "one"})
    assert first == forms.Select(choices=choices).render("fruit", "b", {"id": "one"})
    assert 'id="two"' in KeptOptionsSelect(choices=choices).render("fruit", "b", {"id": "two"})
    assert 'name="veg"' in KeptOptionsSelect(choices=choices).render("veg", "a", {"id": "one"})
    fewer = KeptOptionsSelect(choices=choices[:1]).render("fruit", "a", {"id": "one"})
    assert "Banana" not in fewer
    yes = [("y", translation.gettext_lazy("Yes"))]
    assert ">Yes</option>" in KeptOptionsSelect(choices=yes).render("answer", "y", {})
    with translation.override("de"):
        assert ">Ja</option>" in KeptOptionsSelect(choices=yes).render("answer", "y", {})
