"""Every write to members' accounts outside allauth's own flows."""

import calendar
import io
import secrets
from datetime import datetime
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps, UnidentifiedImageError

from config import page_cache
from conversations.models import Participant
from forums.models import (
    ForumBlock,
    ForumRead,
    ForumSubscription,
    IgnoredMember,
    Notification,
    Post,
    PostRevision,
    Thread,
    ThreadSubscription,
    ThreadVisit,
    TrashedForum,
    TrashedThread,
)
from forums.services import forum_counters_refresh

from .models import CodeBatch, RedeemCode, User
from .standing import check_can_write

AVATAR_SIZE = 128
AVATAR_MAX_BYTES = 2 * 1024 * 1024

CODE_UNKNOWN = gettext_noop("There is no Star code like that. Check for typing mistakes and try again.")
CODE_USED = gettext_noop("That code has already been redeemed.")
CODE_EXPIRED = gettext_noop("That code expired on {date}.")
AVATAR_INVALID = gettext_noop("That file is not an image we can read (use JPEG, PNG, GIF or WebP).")
AVATAR_TOO_LARGE = gettext_noop("That image is larger than 2 MB.")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@transaction.atomic
def member_create(
    *,
    username: str,
    email: str = "",
    display_name: str = "",
    password: str | None = None,
    joined_at: datetime | None = None,
) -> User:
    """Create a member. Without a password the account cannot log in until staff set one."""
    member = User(
        username=username,
        email=email,
        display_name=display_name,
        date_joined=joined_at or timezone.now(),
    )
    if password is None:
        member.set_unusable_password()
    else:
        member.set_password(password)
    member.full_clean(exclude=["password"])
    member.save()
    return member


@transaction.atomic
def star_grant(*, member: User, months: int) -> User:
    """Make `member` a Star Member for `months` more months (from now, or from the
    current expiry when they already are one). Staff, codes and commands call this."""
    if months < 1:
        raise ValidationError(_("Grant at least one month."))
    member = User.objects.select_for_update().get(pk=member.pk)
    now = timezone.now()
    start = member.star_until if member.star_until and member.star_until > now else now
    member.star_until = add_months(start, months)
    member.save(update_fields=["star_until"])
    page_cache.changed(page_cache.member(member.pk))  # the Star badge by their name
    return member


@transaction.atomic
def code_batch_create(
    *, label: str, quantity: int, months: int, expires_at: datetime | None = None,
    created_by: User | None = None,
) -> CodeBatch:
    """Generate `quantity` single-use Star codes. Staff only (the admin checks)."""
    batch = CodeBatch(
        label=label, quantity=quantity, months=months, expires_at=expires_at,
        created_by=created_by,
    )
    batch.full_clean()
    batch.save()
    RedeemCode.objects.bulk_create(RedeemCode(batch=batch) for _ in range(quantity))
    return batch


def _normalise_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").upper()


@transaction.atomic
def code_redeem(*, member: User, code: str) -> User:
    """Redeem a Star code for `member`.

    The code's row is locked before it is checked, so of two simultaneous redemptions
    of one code the second waits, then sees the first one's claim and is refused.
    """
    check_can_write(member)
    claim = (
        RedeemCode.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(code=_normalise_code(code))
        .first()
    )
    if claim is None:
        raise ValidationError(_(CODE_UNKNOWN), code="unknown")
    if claim.redeemed_by_id:
        raise ValidationError(_(CODE_USED), code="used")
    now = timezone.now()
    if claim.batch.expires_at and claim.batch.expires_at <= now:
        expired_on = date_format(timezone.localtime(claim.batch.expires_at), "DATE_FORMAT")
        raise ValidationError(_(CODE_EXPIRED).format(date=expired_on), code="expired")
    claim.redeemed_by, claim.redeemed_at = member, now
    claim.save(update_fields=["redeemed_by", "redeemed_at"])
    return star_grant(member=member, months=claim.batch.months)


def _avatar_file(upload) -> ContentFile:
    if upload.size > AVATAR_MAX_BYTES:
        raise ValidationError({"avatar": _(AVATAR_TOO_LARGE)})
    try:
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE))
            output = io.BytesIO()
            image.save(output, format="JPEG", quality=85)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationError({"avatar": _(AVATAR_INVALID)}) from None
    return ContentFile(output.getvalue(), name=f"{secrets.token_hex(8)}.jpg")


PROFILE_FIELDS = ["display_name", "hometown", "country", "slogan"]
PREFERENCE_FIELDS = [
    "thread_view", "layout", "highlight", "replies_per_page", "time_zone", "theme",
    "jury_available", "email_notifications",
]


@transaction.atomic
def member_update(
    *, member: User, jury_blacklist=None, avatar=None, remove_avatar: bool = False, **fields
) -> User:
    """Save a member's own profile and preferences. Suspended members keep their
    preferences but cannot change what others see of them."""
    unknown = set(fields) - set(PROFILE_FIELDS) - set(PREFERENCE_FIELDS)
    if unknown:
        raise TypeError(f"not member fields: {sorted(unknown)}")
    # Compare with the stored row, not `member`: a ModelForm bound to the member has
    # already copied the new values onto it while validating.
    stored = User.objects.filter(pk=member.pk).values(*PROFILE_FIELDS).get()
    public_change = avatar or remove_avatar or any(
        stored[name] != fields[name] for name in PROFILE_FIELDS if name in fields
    )
    if public_change:
        check_can_write(member)
    for name, value in fields.items():
        setattr(member, name, value)
    old_avatar = member.avatar.name if member.avatar else ""
    if avatar:
        member.avatar = _avatar_file(avatar)
    elif remove_avatar:
        member.avatar = None
    member.full_clean(exclude=["password", "username", "email"])
    # Only what the member changed: counters on the same row (posts, unread
    # notifications and messages) move under other transactions meanwhile.
    member.save(update_fields=[*fields, *(["avatar"] if avatar or remove_avatar else [])])
    if jury_blacklist is not None:
        member.jury_blacklist.set([other for other in jury_blacklist if other.pk != member.pk])
    if old_avatar and (avatar or remove_avatar):
        storage = member.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    if public_change:
        page_cache.changed(page_cache.member(member.pk))
    if "display_name" in fields and stored["display_name"] != fields["display_name"]:
        # A name shows wherever the member does: thread rows, indexes, logs (config/page_cache.py).
        page_cache.changed(page_cache.SITE)
    return member


@transaction.atomic
def member_suspend(*, member: User, reason: str, until: datetime | None = None) -> User:
    """Suspend a member until `until` (None: without end). Staff only."""
    if not reason.strip():
        raise ValidationError({"suspension_reason": _("Give the member a reason.")})
    User.objects.filter(pk=member.pk).update(
        is_suspended=True, suspended_until=until, suspension_reason=reason.strip()
    )
    member.refresh_from_db()
    return member


@transaction.atomic
def member_reinstate(*, member: User) -> User:
    """Lift a suspension. Staff only."""
    User.objects.filter(pk=member.pk).update(
        is_suspended=False, suspended_until=None, suspension_reason=""
    )
    member.refresh_from_db()
    return member


PASSWORD_WRONG = gettext_noop("That is not your current password.")
ALREADY_DELETED = gettext_noop("This account has already been deleted.")


def _end_sessions(member: User) -> None:
    """Drop the member's stored sessions. The database keeps no index by member, so
    this reads the live sessions once; whatever a cache-only session engine keeps is
    refused anyway, because the account can no longer log in (is_active is off and
    the password hash, which every session's auth hash is made from, has changed)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseSessionStore):
        return
    model = store.get_model_class()
    pk = str(member.pk)
    keys = [
        session.session_key
        for session in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == pk
    ]
    for key in keys:
        # Through the store, so that cached_db drops its cached copy as well.
        store(session_key=key).delete()


def _remove_posts(member: User) -> None:
    """The "remove" mode of member_delete: threads the member started that nobody else
    answered go entirely; every other post of theirs becomes a blank placeholder, so
    replies to it keep their place in the tree. Counters stay equal to the rows."""
    others_posted = Post.objects.filter(thread=OuterRef("pk")).exclude(author=member)
    solo = Thread.objects.filter(author=member).exclude(Exists(others_posted))
    solo_rows = list(solo.values_list("pk", "forum_id"))
    if solo_rows:
        solo_ids = [pk for pk, _forum_id in solo_rows]
        # Post.parent protects a post that has replies; these threads go whole, so
        # cut the links first rather than ordering the delete by depth.
        Post.objects.filter(thread__in=solo_ids).update(parent=None)
        Thread.objects.filter(pk__in=solo_ids).delete()
        forum_counters_refresh(forum_ids={forum_id for _pk, forum_id in solo_rows})
    mine = Post.objects.filter(author=member)
    PostRevision.objects.filter(post__in=mine).delete()
    mine.update(
        is_deleted=True, body="", body_html="", body_text="", edited_at=None, edit_count=0
    )
    # An opening post's subject is its thread's title, which the thread keeps.
    mine.filter(parent__isnull=False).update(subject="")
    # As when a member deletes an opening post themselves (forums.services.post_delete).
    Thread.objects.filter(author=member).update(is_locked=True)
    User.objects.filter(pk=member.pk).update(post_count=mine.count())


@transaction.atomic
def member_delete(*, member: User, password: str) -> User:
    """Delete the member's own account, confirmed by their current password.

    The row is kept but scrubbed, rather than deleted or merged into one shared
    "deleted member" account: posts, threads, messages and moderation records point at
    it (PROTECT), so keeping it leaves every thread, forum and member counter exactly
    as it was, and nothing has to be reassigned row by row. Their name, email, profile,
    avatar, password, email addresses, second factors, sessions, subscriptions,
    notifications, read markers, trash and ignores go. FORUMS_DELETED_MEMBER_POSTS
    decides whether their posts stay ("keep", shown as "deleted member") or are
    removed ("remove"). Suspended members may leave too: leaving is always allowed.
    """
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.deleted_at or not member.is_active:
        raise PermissionDenied(_(ALREADY_DELETED))
    if not password or not member.check_password(password):
        raise ValidationError({"password": _(PASSWORD_WRONG)}, code="password")

    if settings.FORUMS_DELETED_MEMBER_POSTS == "remove":
        _remove_posts(member)
        member.refresh_from_db(fields=["post_count"])

    EmailAddress.objects.filter(user=member).delete()
    Authenticator.objects.filter(user=member).delete()
    for model in (ThreadSubscription, ForumSubscription, ForumRead, ThreadVisit,
                  TrashedThread, TrashedForum, ForumBlock):
        model.objects.filter(member=member).delete()
    Notification.objects.filter(recipient=member).delete()
    IgnoredMember.objects.filter(Q(member=member) | Q(ignored=member)).delete()
    User.jury_blacklist.through.objects.filter(
        Q(from_user=member) | Q(to_user=member)
    ).delete()
    # The conversations stay with the other participants; only the counters go.
    Participant.objects.filter(member=member).update(unread_count=0)
    member.hosted_forums.clear()
    member.groups.clear()
    member.user_permissions.clear()
    _end_sessions(member)

    old_avatar = member.avatar.name if member.avatar else ""
    # Random, so the old name is free for a newcomer and the new one guesses nothing.
    member.username = f"deleted-{member.pk}-{secrets.token_hex(4)}"
    member.email = member.first_name = member.last_name = ""
    for name in PROFILE_FIELDS:
        setattr(member, name, "")
    member.avatar = None
    member.set_unusable_password()
    member.is_active = member.is_staff = member.is_superuser = False
    member.last_login = member.star_until = member.all_read_at = None
    member.jury_available = member.email_notifications = False
    member.unread_notification_count = member.unread_message_count = 0
    member.is_suspended, member.suspended_until, member.suspension_reason = False, None, ""
    member.deleted_at = timezone.now()
    member.save()

    if old_avatar:
        storage = member.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    # Their name goes from every page that shows it (config/page_cache.py: "Site-wide").
    page_cache.changed(page_cache.SITE)
    return member
