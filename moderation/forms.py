from django import forms
from django.utils.translation import gettext_lazy as _

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
    username = forms.CharField(label=_("Username"), max_length=150)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
