from django import forms
from django.utils.translation import gettext_lazy as _

from .services import BODY_MAX, TITLE_MAX

BODY_HELP = _(
    "Markdown: *italic*, **bold**, > quote, - list, [link](https://...), ``` code ```. "
    "Excerpts of copyrighted articles: at most 4 paragraphs, with a link to the source."
)


def _body_field():
    return forms.CharField(
        label=_("Message"), max_length=BODY_MAX, help_text=BODY_HELP,
        widget=forms.Textarea(attrs={"rows": 12}),
    )


class ThreadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = _body_field()


class ReplyForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject"), max_length=TITLE_MAX, required=False,
        help_text=_("Leave empty to use the first words of your reply."),
    )
    body = _body_field()


class EditForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=TITLE_MAX)
    body = _body_field()
