"""A new member's time zone comes from their browser at sign-up (a hidden field that
static/js/site.js fills); the server keeps only zones its zoneinfo knows."""

import pytest
from django.urls import reverse

from accounts.models import User

PASSWORD = "a long and unusual passphrase"


def _sign_up(client, **extra):
    response = client.post(reverse("account_signup"), {
        "username": "newcomer", "email": "newcomer@example.org",
        "password1": PASSWORD, "password2": PASSWORD, **extra,
    })
    assert response.status_code == 302
    return User.objects.get(username="newcomer")


@pytest.mark.django_db
def test_signup_form_has_a_hidden_field_for_the_browsers_time_zone(client):
    page = client.get(reverse("account_signup")).content.decode()
    assert '<input type="hidden" name="time_zone" data-browser-time-zone id="id_time_zone">' in page


@pytest.mark.django_db
@pytest.mark.parametrize("sent, kept", [
    ("Europe/Paris", "Europe/Paris"),
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    (None, "UTC"),  # no JavaScript: the field stays empty
    ("", "UTC"),
    ("Mars/Olympus_Mons", "UTC"),
    ("../../etc/passwd", "UTC"),
    ("Europe/Paris" * 20, "UTC"),
])
def test_signup_keeps_the_browsers_time_zone_when_zoneinfo_knows_it(client, sent, kept):
    member = _sign_up(client, **({} if sent is None else {"time_zone": sent}))
    assert member.time_zone == kept


@pytest.mark.django_db
def test_settings_offer_the_browsers_time_zone_once_the_script_can_name_it(member_client):
    page = member_client.get(reverse("members:settings")).content.decode()
    assert (
        '<button type="button" class="button button-secondary" data-use-browser-time-zone '
        """aria-controls="id_time_zone" hidden>Use my browser's time zone</button>"""
    ) in page
