"""Who may moderate what. Hosts care for their forums; staff for everything."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.permissions import check_can_write
from forums.models import Post

NOT_A_HOST = "Only this forum's hosts and staff can do that."
STAFF_ONLY = "Only staff can do that."
OWN_POST = "You cannot alert your own post."
RESTRICTED = "You have {limit} hidden posts in the last {days} days, so you cannot {what} until {until}."
CANNOT_ALERT_HIDDEN = "This post is already hidden."


def is_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def hidden_post_restriction_ends(member):
    """None, or when a member with too many recently hidden posts may post again: the
    day the oldest of them leaves the window."""
    window = timedelta(days=settings.FORUMS_HIDDEN_WINDOW_DAYS)
    hidden = list(
        Post.objects.filter(author=member, is_hidden=True, hidden_at__gte=timezone.now() - window)
        .order_by("-hidden_at")
        .values_list("hidden_at", flat=True)[: settings.FORUMS_HIDDEN_POSTS_LIMIT]
    )
    if len(hidden) < settings.FORUMS_HIDDEN_POSTS_LIMIT:
        return None
    return hidden[-1] + window


def check_not_restricted(member, what: str) -> None:
    until = hidden_post_restriction_ends(member)
    if until:
        raise PermissionDenied(
            _(RESTRICTED).format(
                limit=settings.FORUMS_HIDDEN_POSTS_LIMIT, days=settings.FORUMS_HIDDEN_WINDOW_DAYS,
                what=what, until=date_format(timezone.localtime(until), "DATE_FORMAT"),
            )
        )


def is_host(user, forum) -> bool:
    return bool(user.is_authenticated and forum.hosts.filter(pk=user.pk).exists())


def can_moderate(user, forum) -> bool:
    """For templates; the hidden-post restriction is checked when acting."""
    return is_staff(user) or is_host(user, forum)


def check_moderate_permission(user, forum) -> str:
    """Raise unless `user` hosts `forum` or is staff, and is not suspended (a suspended
    member reads but writes nothing, moderation included); return the role they act in."""
    if is_staff(user):
        check_can_write(user)
        return "staff"
    if not is_host(user, forum):
        raise PermissionDenied(_(NOT_A_HOST))
    check_can_write(user)
    check_not_restricted(user, _("host"))
    return "host"


def check_staff_permission(user) -> None:
    if not is_staff(user):
        raise PermissionDenied(_(STAFF_ONLY))
