"""Account-level rules that every write in the site goes through."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

SUSPENDED = "Your account is suspended until {end}: {reason}"
BANNED = "Your account is suspended: {reason}"


def can_write(member) -> bool:
    return bool(member.is_authenticated and member.is_active and not member.suspension_active)


def check_can_write(member) -> None:
    """Refuse any write by a suspended member, saying why and until when."""
    if member.suspension_active:
        if member.suspended_until is None:
            raise PermissionDenied(_(BANNED).format(reason=member.suspension_reason))
        end = date_format(timezone.localtime(member.suspended_until), "DATETIME_FORMAT")
        raise PermissionDenied(_(SUSPENDED).format(end=end, reason=member.suspension_reason))
