"""Every write to members' accounts outside allauth's own flows."""

import calendar
import io
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps, UnidentifiedImageError

from config import page_cache

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
    "jury_available", "email_notifications", "notify_recommendations",
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
