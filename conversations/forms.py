from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from forums.forms import pictures_field
from forums.services import BODY_MAX

from .services import SUBJECT_MAX

BODY_HELP = _(
    "Markdown: *italic*, **bold**, > quote, - list, [link](https://...), ``` code ```."
)
RECIPIENT_REQUIRED = _("Who is the message for? Give their username.")
RECIPIENT_UNKNOWN = _("There is no member called “%(name)s”. Check the spelling of the username.")


def _body_field():
    return forms.CharField(
        label=_("Message"), max_length=BODY_MAX, help_text=BODY_HELP,
        widget=forms.Textarea(attrs={"rows": 10}),
    )


class ConversationForm(forms.Form):
    recipient = forms.CharField(
        label=_("To"), max_length=150, help_text=_("The member's username."),
        error_messages={"required": RECIPIENT_REQUIRED},
    )
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    body = _body_field()
    pictures = pictures_field()

    def clean_recipient(self):
        """The member the username names (as typed, or ignoring case); `@name` works too."""
        name = self.cleaned_data["recipient"].strip().lstrip("@")
        members = list(
            get_user_model().objects.filter(username__iexact=name, is_active=True).order_by("pk")[:5]
        )
        exact = [member for member in members if member.username == name]
        if not (exact or members):
            raise forms.ValidationError(RECIPIENT_UNKNOWN, code="unknown", params={"name": name})
        return (exact or members)[0]


class MessageForm(forms.Form):
    body = _body_field()
    pictures = pictures_field()
