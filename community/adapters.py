"""allauth, in the community's name: signup, confirmation and password emails say the
community's name and come from it. Here, at the top of the layers, because the name
is the forums app's data (forums.models.Community) and allauth serves accounts."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.sites.requests import RequestSite

from config.mail import sender
from forums.models import Community


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        """The new member's time zone from the sign-up form (accounts.forms.SignupForm),
        saved with the account rather than written again after it."""
        zone = getattr(form, "cleaned_data", {}).get("time_zone")
        if zone:
            user.time_zone = zone
        return super().save_user(request, user, form, commit)

    def get_from_email(self) -> str:
        return sender(Community.current().name)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's emails greet from `current_site.name`; without the sites framework
        that is the host name ("Hello from 127.0.0.1:8000!"). Here it is the community's
        name, and the domain stays the one the member used."""
        if self.request is not None:
            domain = RequestSite(self.request).domain
        else:
            domain = urlsplit(settings.FORUMS_SITE_URL).netloc
        site = SimpleNamespace(name=Community.current().name, domain=domain)
        super().send_mail(template_prefix, email, {**context, "current_site": site})
