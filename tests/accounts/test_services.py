import io
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from PIL import Image

from accounts.models import RedeemCode, Tier, User
from accounts.standing import BANNED
from accounts.services import (
    AVATAR_INVALID,
    CODE_UNKNOWN,
    CODE_USED,
    add_months,
    code_batch_create,
    code_redeem,
    member_reinstate,
    member_suspend,
    member_update,
    star_grant,
)
from forums.services import reply_create, thread_create
from tests.factories import MemberFactory


def _png(width=300, height=200) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def test_add_months_keeps_the_day_or_uses_the_last_one():
    moment = timezone.now().replace(year=2026, month=1, day=31)
    assert add_months(moment, 1).date().isoformat() == "2026-02-28"
    assert add_months(moment, 12).date().isoformat() == "2027-01-31"


def test_star_grant_makes_a_star_member_and_extends_from_expiry(member):
    assert member.tier == Tier.MEMBER

    member = star_grant(member=member, months=1)
    first_expiry = member.star_until
    member = star_grant(member=member, months=2)

    assert member.tier == Tier.STAR and member.is_star
    assert member.star_until == add_months(first_expiry, 2)


def test_star_expires_without_any_job(member):
    User.objects.filter(pk=member.pk).update(star_until=timezone.now() - timedelta(seconds=1))
    member.refresh_from_db()
    assert member.tier == Tier.MEMBER and not member.is_star


def test_star_grant_after_expiry_starts_from_now(member):
    User.objects.filter(pk=member.pk).update(star_until=timezone.now() - timedelta(days=400))
    member = star_grant(member=member, months=1)
    assert member.star_until > timezone.now() + timedelta(days=27)


def test_grant_star_command(member, capsys):
    call_command("grant_star", member.username, "--months", "3")
    member.refresh_from_db()
    assert member.is_star
    assert "is a Star Member until" in capsys.readouterr().out


def test_code_batch_create_makes_unique_single_use_codes(member):
    batch = code_batch_create(label="Fundraiser", quantity=25, months=12, created_by=member)
    codes = list(batch.codes.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 25
    assert all(len(code) == 16 for code in codes)


def test_code_redeem_grants_the_batch_months_once(member, other_member):
    code = code_batch_create(label="Gift", quantity=1, months=6).codes.get()

    member = code_redeem(member=member, code=f" {code.code.lower()} ")

    assert member.is_star
    code.refresh_from_db()
    assert code.redeemed_by == member
    with pytest.raises(ValidationError) as refusal:
        code_redeem(member=other_member, code=code.code)
    assert refusal.value.messages == [CODE_USED]
    other_member.refresh_from_db()
    assert not other_member.is_star


def test_code_redeem_refuses_unknown_and_expired_codes(member):
    with pytest.raises(ValidationError) as unknown:
        code_redeem(member=member, code="NOSUCHCODE")
    assert unknown.value.messages == [CODE_UNKNOWN]

    batch = code_batch_create(
        label="Old", quantity=1, months=1, expires_at=timezone.now() - timedelta(days=1)
    )
    with pytest.raises(ValidationError) as expired:
        code_redeem(member=member, code=batch.codes.get().code)
    assert expired.value.messages[0].startswith("That code expired on")
    assert not RedeemCode.objects.filter(redeemed_by=member).exists()
    member.refresh_from_db()
    assert not member.is_star


@pytest.mark.django_db(transaction=True)
def test_code_redeem_concurrently_gives_one_success_and_one_refusal():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite serialises all writers anyway")
    members = MemberFactory.create_batch(2)
    code = code_batch_create(label="Race", quantity=1, months=1).codes.get().code
    barrier = threading.Barrier(2)
    outcomes = []

    def redeem(member):
        try:
            barrier.wait()
            code_redeem(member=member, code=code)
            outcomes.append("ok")
        except ValidationError as refusal:
            outcomes.append(refusal.messages[0])
        finally:
            connection.close()

    workers = [threading.Thread(target=redeem, args=(member,)) for member in members]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes) == sorted(["ok", CODE_USED])
    assert User.objects.filter(star_until__isnull=False).count() == 1


def test_suspended_member_cannot_post_or_redeem(member, forum):
    member = member_suspend(member=member, reason="Repeated personal attacks")

    with pytest.raises(PermissionDenied, match="Repeated personal attacks"):
        thread_create(forum=forum, author=member, title="Hi", body="Hello")
    with pytest.raises(PermissionDenied, match=BANNED.split(":")[0]):
        code_redeem(member=member, code="ANY")


def test_suspension_with_end_date_shows_it_and_lapses(member, thread, opening_post):
    until = timezone.now() + timedelta(days=3)
    member = member_suspend(member=member, reason="Cooling off", until=until)
    with pytest.raises(PermissionDenied, match="suspended until"):
        reply_create(author=member, parent=opening_post, body="x")

    User.objects.filter(pk=member.pk).update(suspended_until=timezone.now() - timedelta(seconds=1))
    member.refresh_from_db()
    assert reply_create(author=member, parent=opening_post, body="Back again").number == 1


def test_member_reinstate_lifts_a_ban(member, forum):
    member = member_reinstate(member=member_suspend(member=member, reason="Spam"))
    assert thread_create(forum=forum, author=member, title="Hello", body="again").pk


def test_member_update_saves_preferences_and_blacklist(member, other_member):
    member = member_update(
        member=member, theme="dark", layout="flat", replies_per_page=100,
        time_zone="America/Chicago", jury_available=False,
        jury_blacklist=[other_member, member],
    )
    member.refresh_from_db()
    assert (member.theme, member.layout, member.replies_per_page) == ("dark", "flat", 100)
    assert member.time_zone == "America/Chicago" and member.jury_available is False
    assert list(member.jury_blacklist.all()) == [other_member]  # never oneself


def test_member_update_resizes_the_avatar(member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    member = member_update(member=member, avatar=_png())

    with Image.open(member.avatar.path) as stored:
        assert stored.size == (128, 128)
        assert stored.format == "JPEG"


def test_member_update_refuses_a_file_that_is_not_an_image(member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    with pytest.raises(ValidationError) as refusal:
        member_update(member=member, avatar=fake)
    assert refusal.value.message_dict["avatar"] == [AVATAR_INVALID]
    assert not list(tmp_path.iterdir())


def test_suspended_member_keeps_preferences_but_not_profile(member):
    member = member_suspend(member=member, reason="Spam")
    member = member_update(member=member, theme="light")
    assert member.theme == "light"
    with pytest.raises(PermissionDenied):
        member_update(member=member, slogan="Buy my stuff")
