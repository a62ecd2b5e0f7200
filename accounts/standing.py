"""A member's standing: what the site lets a person do anywhere, whatever the forum or
conversation. Every app asks here, never decides it again:

- staff: logged in, active, and `is_staff`;
- may write at all: logged in, active and not suspended (suspended members read only);
- restricted: too many posts hidden recently, so no posting, hosting or jury service
  until the oldest leaves the window (`User.restricted_until`, kept by moderation);
- new: flood and link limits apply for the first day and the first posts.

Each rule comes as `can_*`/`is_*` for templates and `check_*` that raises.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

# A rate limit, so it lives in config; apps keep asking standing for it, beside check_pause.
from config.ratelimit import PostingPaused, hours_phrase, seconds_phrase

ACCOUNT_INACTIVE = gettext_noop("Your account is not active.")
SUSPENDED = gettext_noop("Your account is suspended until {end}: {reason}")
BANNED = gettext_noop("Your account is suspended: {reason}")
NEW_MEMBER_LIMITS_END = gettext_noop(
    "This limit ends once you have {posts} and have been a member for {hours}."
)
RESTRICTED = gettext_noop(
    "You have {limit} hidden posts in the last {days} days, so you cannot {what} until {until}."
)


def is_staff(user) -> bool:
    """Site-wide moderators. A deactivated staff account moderates nothing."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def can_write(member) -> bool:
    return bool(member.is_authenticated and member.is_active and not member.suspension_active)


def check_can_write(member) -> None:
    """Refuse any write by a suspended member, saying why and until when."""
    if member.suspension_active:
        if member.suspended_until is None:
            raise PermissionDenied(_(BANNED).format(reason=member.suspension_reason))
        end = date_format(timezone.localtime(member.suspended_until), "DATETIME_FORMAT")
        raise PermissionDenied(_(SUSPENDED).format(end=end, reason=member.suspension_reason))


def check_active_member(user) -> None:
    """Logged in, active and not suspended: may recommend, alert and send messages."""
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied(_(ACCOUNT_INACTIVE))
    check_can_write(user)


def restriction_ends(member):
    """None, or when a member with too many recently hidden posts may post, host and
    serve on juries again. Stored on the member, so asking costs no query."""
    until = getattr(member, "restricted_until", None)
    return until if until and until > timezone.now() else None


def is_restricted(member) -> bool:
    return restriction_ends(member) is not None


def check_not_restricted(member, what: str) -> None:
    """`what` is the translated verb the member cannot do: "post", "host"."""
    until = restriction_ends(member)
    if until:
        raise PermissionDenied(
            _(RESTRICTED).format(
                limit=settings.FORUMS_HIDDEN_POSTS_LIMIT, days=settings.FORUMS_HIDDEN_WINDOW_DAYS,
                what=what, until=date_format(timezone.localtime(until), "DATE_FORMAT"),
            )
        )


def can_post(member) -> bool:
    """For templates: may write posts anywhere (blocks and locks are the forum's rules)."""
    return can_write(member) and not is_restricted(member)


def check_post_permission(member) -> None:
    """May write posts: an active member without too many recently hidden posts."""
    check_active_member(member)
    check_not_restricted(member, _("post"))


def can_moderate(member, *, hosts_forum: bool) -> bool:
    """For templates: may use a forum's moderation tools, where `hosts_forum` says
    whether the member hosts it. Staff anywhere, hosts in their forum; nobody while
    suspended, and hosts not while restricted. moderation.permissions
    .check_moderate_permission refuses exactly the rest, with the reason."""
    if not can_write(member):
        return False
    return is_staff(member) or (hosts_forum and not is_restricted(member))


def is_new_member(user) -> bool:
    """New members (fewer than FORUMS_NEW_MEMBER_POSTS posts, or joined less than
    FORUMS_NEW_MEMBER_HOURS ago) post and send messages under flood and link limits;
    staff never count as new."""
    return not is_staff(user) and (
        user.post_count < settings.FORUMS_NEW_MEMBER_POSTS
        or timezone.now() - user.date_joined < timedelta(hours=settings.FORUMS_NEW_MEMBER_HOURS)
    )


def new_member_limits_end() -> str:
    """When a new member's limits lift, in the settings' numbers: both conditions of
    is_new_member must be met."""
    posts = settings.FORUMS_NEW_MEMBER_POSTS
    return _(NEW_MEMBER_LIMITS_END).format(
        posts=ngettext("%(count)d post", "%(count)d posts", posts) % {"count": posts},
        hours=hours_phrase(settings.FORUMS_NEW_MEMBER_HOURS),
    )


def check_pause(last, *, now, pause: timedelta, message: str) -> None:
    """Flood control for new members: refuse with PostingPaused while `pause` has not
    passed since the member's `last` write. `message` takes {seconds} (the pause, a
    number), {wait} (what is left of it, a phrase: "12 seconds") and {ends} (when new
    members' limits lift, a sentence)."""
    if last and now - last < pause:
        wait = int((pause - (now - last)).total_seconds()) + 1
        text = _(message).format(
            seconds=int(pause.total_seconds()), wait=seconds_phrase(wait), ends=new_member_limits_end()
        )
        raise PostingPaused(text, retry_after=wait)
