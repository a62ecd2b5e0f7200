"""How every form on the site renders (FORM_RENDERER): Django's own templates, with
one change to how labels read, and a <select> for long lists of fixed choices."""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from config.kept import Made


class BoundField(forms.BoundField):
    """A checkbox's label is a statement the box makes true ("Remember me", "Available
    to serve on juries"), not a prompt for what follows, so it takes no colon."""

    def label_tag(self, contents=None, attrs=None, label_suffix=None, tag=None):
        if label_suffix is None and isinstance(self.field.widget, forms.CheckboxInput):
            label_suffix = ""
        return super().label_tag(contents, attrs, label_suffix, tag)


class FormRenderer(DjangoTemplates):
    bound_field_class = BoundField


class KeptOptionsSelect(forms.Select):
    """A <select> of many fixed choices, such as the 600 time zones on a member's
    settings page. Django renders each option through templates of its own, which took
    56 of the page's 79 ms. Here Django renders the whole <select> once per process,
    for its attributes, choices and language, with no option chosen; each request then
    marks its value's option chosen, as Django marks it (`<option value="..."
    selected>`). A value that is no choice leaves none chosen, as with Django's."""

    def render(self, name, value, attrs=None, renderer=None):
        key = (
            name, tuple(self.build_attrs(self.attrs, attrs).items()), tuple(self.choices),
            translation.get_language(), type(renderer),
        )
        unchosen = _UNCHOSEN_SELECTS.get(
            key, lambda: str(super(KeptOptionsSelect, self).render(name, None, attrs, renderer))
        )
        for chosen in self.format_value(value):
            option = f'<option value="{escape(chosen)}">'
            if option in unchosen:
                return mark_safe(unchosen.replace(option, f'<option value="{escape(chosen)}" selected>', 1))
        return mark_safe(unchosen)


# KeptOptionsSelect's renders, by everything they were made from.
_UNCHOSEN_SELECTS = Made(64)
