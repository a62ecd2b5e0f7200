"""Who may moderate what. Hosts care for their forums; staff for everything."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.standing import check_can_write, check_not_restricted, is_staff

NOT_A_HOST = gettext_noop("Only this forum's hosts and staff can do that.")
STAFF_ONLY = gettext_noop("Only staff can do that.")
OWN_POST = gettext_noop("You cannot alert your own post.")
CANNOT_ALERT_HIDDEN = gettext_noop("This post is already hidden.")


def is_host(user, forum) -> bool:
    return bool(user.is_authenticated and forum.hosts.filter(pk=user.pk).exists())


def check_moderate_permission(user, forum) -> str:
    """Raise unless `user` hosts `forum` or is staff, and is not suspended (a suspended
    member reads but writes nothing, moderation included); return the role they act in.
    Pages offer the tools by the same rule: accounts.standing.can_moderate."""
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
