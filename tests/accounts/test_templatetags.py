"""The `members` template library: member links and a member's standing as filters."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.utils import timezone

from accounts.models import User
from accounts.services import member_suspend
from tests.factories import MemberFactory


def _render(source: str, **context) -> str:
    return Template("{% load members %}" + source).render(Context(context))


def test_member_link_links_to_the_profile():
    member = User(username="ann", display_name="Ann")
    assert _render("{% member_link member %}", member=member) == '<a href="/members/ann/">Ann</a>'
    assert _render('{% member_link member css_class="author" %}', member=member) == (
        '<a class="author" href="/members/ann/">Ann</a>'
    )


def test_member_link_escapes_the_name():
    member = User(username="ann", display_name='<script>alert("x")</script> & co')
    html = _render('{% member_link member css_class="author" %}', member=member)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html


def test_member_link_names_a_deleted_member_without_a_link():
    member = User(username="deleted-7-abcd1234", deleted_at=timezone.now())
    assert _render("{% member_link member %}", member=member) == "deleted member"
    assert _render('{% member_link member css_class="author" %}', member=member) == (
        '<span class="author">deleted member</span>'
    )


def test_member_link_makes_no_query(member, django_assert_num_queries):
    member = User.objects.get(pk=member.pk)
    with django_assert_num_queries(0):
        _render('{% member_link member %}{% member_link member css_class="author" %}', member=member)


CHECKS = "{% if user|is_staff %}staff {% endif %}{% if user|can_write %}write {% endif %}{% if user|can_post %}post{% endif %}"


@pytest.mark.parametrize("user", [AnonymousUser(), None, ""])
def test_standing_filters_are_false_for_nobody(user):
    assert _render(CHECKS, user=user) == ""


def test_standing_filters_ask_accounts_standing(member):
    assert _render(CHECKS, user=member) == "write post"

    User.objects.filter(pk=member.pk).update(restricted_until=timezone.now() + timedelta(days=1))
    member.refresh_from_db()
    assert _render(CHECKS, user=member) == "write "

    member_suspend(member=member, reason="Spam")
    assert _render(CHECKS, user=member) == ""


def test_is_staff_filter_ignores_deactivated_staff(db):
    staff = MemberFactory()
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    assert _render(CHECKS, user=staff) == "staff write post"

    User.objects.filter(pk=staff.pk).update(is_active=False)
    staff.refresh_from_db()
    assert _render("{% if user|is_staff %}staff{% endif %}", user=staff) == ""
