"""Who may do what. Each rule comes as `can_*` for templates and `check_*` that raises."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.permissions import can_write, check_can_write

THREAD_LOCKED = "This thread is locked: it takes no new replies."
ACCOUNT_INACTIVE = "Your account is not active."


def can_post(user) -> bool:
    return can_write(user)


def check_post_permission(user) -> None:
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied(_(ACCOUNT_INACTIVE))
    check_can_write(user)


def can_reply(user, thread) -> bool:
    return can_post(user) and not thread.is_locked


def check_reply_permission(user, thread) -> None:
    check_post_permission(user)
    if thread.is_locked:
        raise PermissionDenied(_(THREAD_LOCKED))
