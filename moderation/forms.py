from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.forms import UNKNOWN_MEMBERS
from forums.models import Forum

from .models import AlertRule, JurySeat


class AlertForm(forms.Form):
    rule = forms.ModelChoiceField(
        label=_("Which rule does this post break?"), queryset=AlertRule.objects.all(),
        widget=forms.RadioSelect, empty_label=None,
    )
    comment = forms.CharField(
        label=_("Comment for the jury (optional)"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VoteForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Does the post break the rule?"), choices=JurySeat.Answer.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional, shown without your name)"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why is the verdict wrong?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class MoveForm(forms.Form):
    forum = forms.ModelChoiceField(label=_("Move to"), queryset=Forum.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, forums=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["forum"].queryset = forums if forums is not None else Forum.objects.all()


class MemberActionForm(forms.Form):
    """A forum's hosting page: which member, and what to do (the button pressed)."""

    ACTIONS = ("block", "unblock", "add_host")

    username = forms.CharField(label=_("Username"), max_length=150)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def clean_username(self):
        name = self.cleaned_data["username"]
        self.cleaned_data["member"] = get_user_model().objects.filter(username=name).first()
        if self.cleaned_data["member"] is None:
            raise forms.ValidationError(_(UNKNOWN_MEMBERS).format(names=name))
        return name

    def clean(self):
        cleaned = super().clean()
        cleaned["action"] = self.data.get("action")
        if cleaned["action"] not in self.ACTIONS:
            raise forms.ValidationError(_("Choose what to do."))
        return cleaned
