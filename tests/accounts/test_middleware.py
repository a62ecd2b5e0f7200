"""accounts.middleware.MemberMiddleware: the request's user is loaded at once, with
every check Django's own middleware makes."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_a_members_request_carries_the_member_itself(client, member):
    """Not a lazy stand-in: each of a page's hundreds of reads of request.user goes
    straight to the member."""
    client.force_login(member)
    response = client.get(reverse("forums:home"))

    assert type(response.wsgi_request.user) is User
    assert response.wsgi_request.user.pk == member.pk
    assert "Log out" in response.content.decode()


def test_a_visitors_request_carries_an_anonymous_user(client):
    response = client.get(reverse("forums:latest"))

    assert isinstance(response.wsgi_request.user, AnonymousUser)
    assert "Log in" in response.content.decode()


def test_a_session_from_before_a_password_change_is_logged_out(client, member):
    """The session's password hash is still checked when the user is loaded."""
    client.force_login(member)
    member.set_password("another correct horse battery staple")
    member.save()

    response = client.get(reverse("forums:latest"))

    assert isinstance(response.wsgi_request.user, AnonymousUser)
    assert "Log out" not in response.content.decode()
