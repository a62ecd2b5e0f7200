"""Members in templates: a link to a member's profile, and their standing as filters.

Templates ask `accounts.standing` through these filters, never `user.is_staff` or
`user.is_suspended` directly, so that each rule is decided in one place.
"""

from django import template
from django.utils.html import format_html

from accounts import standing

register = template.Library()


@register.simple_tag
def member_link(member, css_class=""):
    """The member's public name, linked to their profile unless their account was
    deleted (the profile is gone). Reads loaded fields only: no query."""
    if member is None:
        return ""
    if member.deleted_at:
        if css_class:
            return format_html('<span class="{}">{}</span>', css_class, member.public_name)
        # Plain text: simple_tag escapes it like {{ member.public_name }} would be.
        return member.public_name
    if css_class:
        return format_html(
            '<a class="{}" href="{}">{}</a>', css_class, member.get_absolute_url(), member.public_name
        )
    return format_html('<a href="{}">{}</a>', member.get_absolute_url(), member.public_name)


def _is_person(user) -> bool:
    # A template may pass "" for a missing variable; that is nobody, not an error.
    return getattr(user, "is_authenticated", False)


@register.filter
def is_staff(user) -> bool:
    return _is_person(user) and standing.is_staff(user)


@register.filter
def can_write(user) -> bool:
    return _is_person(user) and standing.can_write(user)


@register.filter
def can_post(user) -> bool:
    return _is_person(user) and standing.can_post(user)
