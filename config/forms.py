"""How every form on the site renders (FORM_RENDERER): Django's own templates, with
one change to how labels read."""

from django import forms
from django.forms.renderers import DjangoTemplates


class BoundField(forms.BoundField):
    """A checkbox's label is a statement the box makes true ("Remember me", "Available
    to serve on juries"), not a prompt for what follows, so it takes no colon."""

    def label_tag(self, contents=None, attrs=None, label_suffix=None, tag=None):
        if label_suffix is None and isinstance(self.field.widget, forms.CheckboxInput):
            label_suffix = ""
        return super().label_tag(contents, attrs, label_suffix, tag)


class FormRenderer(DjangoTemplates):
    bound_field_class = BoundField
