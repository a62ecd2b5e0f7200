from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from config.forms import KeptOptionsSelect

from .models import TIME_ZONE_CHOICES, User

KNOWN_TIME_ZONES = frozenset(name for name, _label in TIME_ZONE_CHOICES)

# Every form that takes members by username (the jury blacklist, search by author, a
# forum's hosting page) says this of the names that match no one.
UNKNOWN_MEMBERS = gettext_noop("No member is called {names}.")


class SettingsForm(forms.ModelForm):
    """A member's profile and preferences on /settings/. Validation only: the view
    passes cleaned_data to accounts.services.member_update."""

    avatar = forms.ImageField(
        label=_("Avatar"), required=False,
        help_text=_("JPEG, PNG, GIF or WebP, at most 2 MB; shown 128×128."),
    )
    remove_avatar = forms.BooleanField(label=_("Remove my avatar"), required=False)
    jury_blacklist = forms.CharField(
        label=_("Jury blacklist"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Usernames, separated by commas or spaces: members whose posts you will not judge."),
    )

    class Meta:
        model = User
        fields = [
            "display_name", "hometown", "country", "slogan",
            "thread_view", "layout", "highlight", "replies_per_page", "time_zone", "theme",
            "jury_available", "email_notifications", "notify_recommendations",
        ]
        widgets = {
            "thread_view": forms.RadioSelect, "layout": forms.RadioSelect,
            "highlight": forms.RadioSelect, "theme": forms.RadioSelect,
            "time_zone": KeptOptionsSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["jury_blacklist"] = " ".join(
                self.instance.jury_blacklist.order_by("username").values_list("username", flat=True)
            )

    def clean_jury_blacklist(self):
        names = {name for name in self.cleaned_data["jury_blacklist"].replace(",", " ").split()}
        members = list(User.objects.filter(username__in=names))
        missing = names - {member.username for member in members}
        if missing:
            raise forms.ValidationError(
                _(UNKNOWN_MEMBERS).format(names=", ".join(sorted(missing)))
            )
        return members


class RedeemForm(forms.Form):
    code = forms.CharField(
        label=_("Star code"), max_length=40, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class AccountDeleteForm(forms.Form):
    """The current password, to confirm deleting the account. The service checks it."""

    password = forms.CharField(
        label=_("Your current password"), strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form (settings.ACCOUNT_FORMS) with the member's time zone, which
    static/js/site.js reads from the browser into a hidden field; the adapter stores it
    with the new account (community.adapters.AccountAdapter.save_user)."""

    time_zone = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"data-browser-time-zone": True})
    )

    def clean_time_zone(self) -> str:
        # Nobody types this field: without JavaScript it is empty, and a browser may
        # name a zone this server's zoneinfo lacks. Neither is worth refusing a sign-up
        # over; the member keeps UTC and can choose another zone in their settings.
        zone = self.cleaned_data["time_zone"]
        return zone if zone in KNOWN_TIME_ZONES else "UTC"
