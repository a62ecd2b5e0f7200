"""Alerts and member juries, from alert to verdict (DESIGN.md section 6)."""

import html
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import member_suspend, member_update, star_grant
from forums.models import Notification, Post
from forums.permissions import HIDDEN_POST_EDIT
from forums.services import post_edit, recommendation_set, reply_create, thread_create
from moderation.models import Alert, Jury, JurySeat, ModerationAction
from moderation.services import (
    ALERT_DUPLICATE,
    alert_create,
    alert_rule_create,
    chance_to_serve,
    eligible_jurors,
    jury_vote,
    juries_sweep,
    member_chance,
    member_restriction_refresh,
    post_hide,
)
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

BREAKS, CLOSE_BREAK = JurySeat.Answer.CLEAR_BREAK, JurySeat.Answer.CLOSE_BREAK
KEEPS, CLOSE_KEEP = JurySeat.Answer.CLEAR_KEEP, JurySeat.Answer.CLOSE_KEEP


@pytest.fixture
def rules(db):
    return [
        alert_rule_create(slug="personal-attack", name="No personal attacks", position=0),
        alert_rule_create(slug="off-topic", name="Off-topic for this forum", position=1),
    ]


@pytest.fixture
def pool(db):
    """Twelve members available for juries."""
    return MemberFactory.create_batch(12)


@pytest.fixture
def alerted(thread, opening_post, other_member, rules, pool):
    """A reply by other_member, alerted by a third member, with a jury seated."""
    reply = ReplyFactory(parent=opening_post, author=other_member, body="You are an idiot.")
    alerter = MemberFactory()
    alert = alert_create(alerter=alerter, post=reply, rule=rules[0], comment="Name-calling",
                         rng=random.Random(1))
    return alert


def _vote(jury, answers):
    seats = list(jury.seats.filter(is_replaced=False, answer="").select_related("juror"))
    for seat, answer in zip(seats, answers):
        jury_vote(juror=seat.juror, jury=jury, answer=answer, comment=f"{answer} comment",
                  rng=random.Random(2))


# The chance to serve.


@pytest.mark.parametrize("facts, chance", [
    (dict(post_count=0, days_member=0, recent_posts=0, is_star=False, recent_hidden=0), 0),
    (dict(post_count=99, days_member=9, recent_posts=0, is_star=False, recent_hidden=0), 0),
    (dict(post_count=100, days_member=10, recent_posts=1, is_star=False, recent_hidden=0), 3),
    (dict(post_count=2000, days_member=200, recent_posts=20, is_star=False, recent_hidden=0), 60),
    (dict(post_count=10**6, days_member=10**4, recent_posts=500, is_star=False, recent_hidden=0), 60),
    (dict(post_count=10**6, days_member=10**4, recent_posts=500, is_star=True, recent_hidden=0), 100),
    (dict(post_count=0, days_member=0, recent_posts=0, is_star=True, recent_hidden=0), 40),
    (dict(post_count=0, days_member=0, recent_posts=0, is_star=True, recent_hidden=1), 20),
    (dict(post_count=0, days_member=0, recent_posts=5, is_star=False, recent_hidden=3), 0),
])
def test_chance_to_serve_formula_at_its_bounds(facts, chance):
    assert chance_to_serve(**facts) == chance


def test_member_chance_counts_recent_posts_and_star(member, forum):
    User.objects.filter(pk=member.pk).update(date_joined=timezone.now() - timedelta(days=55))
    member.refresh_from_db()
    for n in range(3):
        thread_create(forum=forum, author=member, title=f"T{n}", body="b")
    star_grant(member=member, months=1)
    member.refresh_from_db()
    assert member_chance(member) == 5 + 3 + 40


def test_settings_page_shows_the_chance(member_client, member):
    assert "Your chance to serve on a jury" in member_client.get(reverse("members:settings")).content.decode()


# Who can serve.


def test_eligible_jurors_exclude_everyone_involved(thread, opening_post, other_member, rules, pool):
    reply = ReplyFactory(parent=opening_post, author=other_member)
    in_thread = pool[0]
    ReplyFactory(parent=opening_post, author=in_thread)
    recommender = pool[1]
    recommendation_set(member=recommender, post=opening_post, recommend=True)
    unavailable = pool[2]
    member_update(member=unavailable, jury_available=False)
    suspended = member_suspend(member=pool[3], reason="Spam")
    blacklisted = pool[4]
    member_update(member=other_member, jury_blacklist=[blacklisted])
    alerter = pool[5]
    Alert.objects.create(post=reply, rule=rules[0], alerter=alerter, created_at=timezone.now())

    eligible = set(eligible_jurors(reply).values_list("pk", flat=True))

    excluded = {thread.author.pk, other_member.pk, in_thread.pk, recommender.pk, unavailable.pk,
                suspended.pk, blacklisted.pk, alerter.pk}
    assert not eligible & excluded
    assert {member.pk for member in pool[6:]} <= eligible


# From alert to verdict.


def test_alert_seats_a_jury_of_seven_and_tells_them(alerted):
    jury = alerted.jury
    seats = jury.seats.all()
    assert seats.count() == 7 and jury.is_open
    assert Notification.objects.filter(kind="jury", jury=jury).count() == 7
    assert not seats.filter(juror__in=[alerted.alerter, alerted.post.author]).exists()


def test_four_breaks_answers_hide_the_post(alerted, client):
    jury = alerted.jury
    _vote(jury, [BREAKS, CLOSE_KEEP, CLOSE_BREAK, BREAKS])
    jury.refresh_from_db()
    assert jury.is_open  # 3 to 1 so far
    _vote(jury, [CLOSE_BREAK])

    jury.refresh_from_db()
    post = Post.objects.get(pk=alerted.post_id)
    assert (jury.is_open, jury.verdict, jury.breaks_votes, jury.keeps_votes) == (False, "hide", 4, 1)
    assert post.is_hidden and post.hidden_at
    log = ModerationAction.objects.get()
    assert (log.kind, log.role, log.actor) == ("verdict_hide", "jury", None)
    assert "4 of 5 jurors" in log.reason
    assert set(Notification.objects.filter(kind="verdict").values_list("recipient_id", flat=True)) == {
        alerted.alerter_id, post.author_id,
    }
    page = client.get(post.thread.get_view_all_url()).content.decode()
    assert "This post was hidden by a jury of members." in page and "You are an idiot." not in page
    public_log = client.get(reverse("moderation:log")).content.decode()
    assert "Jury hid a post" in public_log and "4 of 5 jurors" in public_log


def _edit_url(post):
    return reverse("forums:post-edit", args=[post.thread_id, post.number])


def test_author_cannot_edit_a_post_the_jury_hid(alerted, client):
    post = alerted.post
    client.force_login(post.author)
    assert f'href="{_edit_url(post)}"' in client.get(post.thread.get_view_all_url()).content.decode()
    _vote(alerted.jury, [BREAKS] * 4)

    page = client.get(post.thread.get_view_all_url()).content.decode()
    assert "This post was hidden by a jury of members." in page
    assert f'href="{_edit_url(post)}"' not in page  # no Edit link: the appeal is the way back
    for response in (client.get(_edit_url(post)),
                     client.post(_edit_url(post), {"subject": "", "body": "Nicer words", "post": "1"})):
        assert response.status_code == 403
        assert html.unescape(response.content.decode()).count(HIDDEN_POST_EDIT) == 1
    assert Post.objects.get(pk=post.pk).body == "You are an idiot."
    with pytest.raises(PermissionDenied, match="hidden by moderation"):
        post_edit(editor=post.author, post=post, body="Nicer words")


def test_author_cannot_edit_a_post_staff_hid_but_staff_can(reply, client):
    staff = User.objects.create_user("moderator", password="x" * 12, is_staff=True)
    post_hide(staff=staff, post=reply, hide=True, reason="Spam")
    client.force_login(reply.author)
    assert client.post(_edit_url(reply), {"subject": "Edited", "body": "Edited", "post": "1"}).status_code == 403
    client.force_login(staff)
    assert client.post(_edit_url(reply), {"subject": "Staff", "body": "Edited by staff", "post": "1"}).status_code == 302
    assert Post.objects.get(pk=reply.pk).body == "Edited by staff"


def test_four_keeps_answers_keep_the_post_and_close_early(alerted):
    jury = alerted.jury
    _vote(jury, [KEEPS, CLOSE_KEEP, KEEPS, CLOSE_KEEP])
    jury.refresh_from_db()
    assert (jury.is_open, jury.verdict) == (False, "keep")
    assert not Post.objects.get(pk=alerted.post_id).is_hidden
    # The three jurors still seated can no longer vote.
    late = jury.seats.filter(answer="").first()
    with pytest.raises(ValidationError):
        jury_vote(juror=late.juror, jury=jury, answer=BREAKS)


def test_three_three_is_not_yet_a_verdict(alerted):
    jury = alerted.jury
    _vote(jury, [BREAKS, BREAKS, BREAKS, KEEPS, KEEPS, KEEPS])
    jury.refresh_from_db()
    assert jury.is_open and (jury.breaks_votes, jury.keeps_votes) == (3, 3)
    _vote(jury, [CLOSE_KEEP])
    jury.refresh_from_db()
    assert jury.verdict == "keep"


def test_poster_and_alerter_see_the_result_without_jurors_names(alerted, client):
    jury = alerted.jury
    _vote(jury, [BREAKS, BREAKS, BREAKS, BREAKS])
    url = reverse("moderation:jury-result", args=[jury.pk])
    juror_names = list(jury.seats.values_list("juror__username", flat=True))
    for viewer in (alerted.post.author, alerted.alerter):
        client.force_login(viewer)
        page = client.get(url).content.decode()
        assert "The post breaks the rule and is hidden" in page
        assert "clear_break comment" in page
        assert not any(name in page.split("<main")[1] for name in juror_names)
    client.force_login(MemberFactory())
    assert client.get(url).status_code == 404


def test_poster_appeals_and_staff_overturn(alerted, client):
    from moderation.models import Appeal
    from moderation.services import appeal_decide

    jury = alerted.jury
    _vote(jury, [BREAKS] * 4)
    client.force_login(alerted.post.author)
    client.post(reverse("moderation:jury-result", args=[jury.pk]), {"text": "It was a joke between friends."})
    appeal = Appeal.objects.get()
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)

    appeal_decide(staff=staff, appeal=appeal, overturn=True)

    assert not Post.objects.get(pk=alerted.post_id).is_hidden
    assert ModerationAction.objects.filter(kind="appeal_overturned", actor=staff).exists()


def test_one_alert_per_rule_and_never_on_own_post(alerted, rules):
    with pytest.raises(ValidationError, match=ALERT_DUPLICATE):
        alert_create(alerter=MemberFactory(), post=alerted.post, rule=rules[0])
    with pytest.raises(PermissionDenied):
        alert_create(alerter=alerted.post.author, post=alerted.post, rule=rules[1])


def test_second_alert_waits_then_gets_its_own_jury(alerted, rules):
    second = alert_create(alerter=MemberFactory(), post=alerted.post, rule=rules[1], rng=random.Random(3))
    assert second.status == "waiting" and Jury.objects.count() == 1

    _vote(alerted.jury, [KEEPS] * 4)

    second.refresh_from_db()
    assert second.status == "judged" and second.jury.is_open


def test_second_alert_is_dropped_when_the_post_is_hidden(alerted, rules):
    second = alert_create(alerter=MemberFactory(), post=alerted.post, rule=rules[1])
    _vote(alerted.jury, [BREAKS] * 4)
    second.refresh_from_db()
    assert second.status == "dropped" and Jury.objects.count() == 1


def test_alerting_through_the_page(member_client, reply, rules, pool):
    url = reverse("moderation:alert-create", args=[reply.thread_id, reply.number])
    page = member_client.get(url).content.decode()
    assert "No personal attacks" in page and "Off-topic for this forum" in page

    response = member_client.post(url, {"rule": rules[1].pk, "comment": "Belongs in the Lounge"})

    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.comment == "Belongs in the Lounge" and alert.jury.seats.count() == 7
    again = member_client.post(url, {"rule": rules[1].pk})
    assert again.status_code == 400 and ALERT_DUPLICATE in again.content.decode()


def test_juror_page_shows_post_rule_and_comment_and_takes_the_vote(alerted, client):
    jury = alerted.jury
    seat = jury.seats.first()
    client.force_login(seat.juror)
    url = reverse("moderation:jury-detail", args=[jury.pk])
    page = client.get(url).content.decode()
    for text in ["No personal attacks", "Name-calling", "You are an idiot.", "Clearly breaks the rule",
                 "Close call: does not break it"]:
        assert text in page

    client.post(url, {"answer": CLOSE_BREAK, "comment": "Borderline"})

    seat.refresh_from_db()
    assert seat.answer == CLOSE_BREAK and seat.comment == "Borderline"
    assert client.post(url, {"answer": BREAKS}).status_code == 400  # only once
    client.force_login(MemberFactory())
    assert client.get(url).status_code == 404


def test_juror_page_writes_the_deadline_in_the_sites_format_and_the_jurors_time_zone(alerted, client):
    seat = alerted.jury.seats.first()
    # A deadline still to come (a passed one closes the seat), on the eve of the day in UTC.
    JurySeat.objects.filter(pk=seat.pk).update(deadline_at=datetime(2099, 11, 27, 4, 22, tzinfo=UTC))
    member_update(member=seat.juror, time_zone="America/New_York")
    client.force_login(seat.juror)

    page = client.get(reverse("moderation:jury-detail", args=[alerted.jury.pk])).content.decode()

    assert "Please answer before Thu Nov 26, 2099, 11:22 PM;" in page


# Deadlines and replacement.


def test_late_jurors_are_replaced_when_the_jury_is_looked_at(alerted, client):
    jury = alerted.jury
    late = list(jury.seats.all()[:2])
    JurySeat.objects.filter(pk__in=[s.pk for s in late]).update(deadline_at=timezone.now() - timedelta(minutes=1))
    client.force_login(alerted.alerter)

    client.get(reverse("moderation:jury-result", args=[jury.pk]))

    assert jury.seats.filter(is_replaced=True).count() == 2
    assert jury.seats.filter(is_replaced=False).count() == 7
    replaced_juror = late[0].juror
    with pytest.raises(PermissionDenied):
        jury_vote(juror=replaced_juror, jury=jury, answer=BREAKS)


def test_juror_past_their_deadline_finds_their_seat_given_away(alerted, client):
    jury = alerted.jury
    late = jury.seats.first()
    JurySeat.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))
    client.force_login(late.juror)

    response = client.get(reverse("moderation:jury-detail", args=[jury.pk]))

    assert response.status_code == 404
    late.refresh_from_db()
    assert late.is_replaced
    assert jury.seats.filter(is_replaced=False).count() == 7


def test_result_page_shows_the_verdict_reached_as_it_is_looked_at(alerted, client):
    """The last jurors' deadlines passed with nobody left to seat: looking at the result
    closes the jury, and the page shows that verdict, not the jury as it was loaded."""
    jury = alerted.jury
    _vote(jury, [BREAKS, BREAKS])
    User.objects.exclude(jury_seats__jury=jury).update(jury_available=False)
    JurySeat.objects.filter(jury=jury, answer="").update(deadline_at=timezone.now() - timedelta(hours=1))
    client.force_login(alerted.alerter)

    page = client.get(reverse("moderation:jury-result", args=[jury.pk])).content.decode()

    assert "The post does not break the rule and stays." in page
    jury.refresh_from_db()
    assert (jury.is_open, jury.verdict) == (False, "keep")


def test_looking_at_a_jury_with_nobody_late_leaves_every_seat_as_it_was(alerted, client):
    jury = alerted.jury
    seats = list(jury.seats.order_by("pk").values_list("pk", "juror_id", "is_replaced", "deadline_at"))
    client.force_login(alerted.alerter)

    assert client.get(reverse("moderation:jury-result", args=[jury.pk])).status_code == 200
    client.force_login(jury.seats.first().juror)
    assert client.get(reverse("moderation:jury-detail", args=[jury.pk])).status_code == 200

    assert list(jury.seats.order_by("pk").values_list("pk", "juror_id", "is_replaced", "deadline_at")) == seats


def test_result_page_query_count(alerted, client, django_assert_num_queries):
    jury = alerted.jury
    _vote(jury, [BREAKS, KEEPS, CLOSE_BREAK])  # three jurors' comments, the jury still open
    client.force_login(alerted.alerter)
    # session, member; jury with alert, rule, post and thread; any juror late (no:
    # nothing locked); the jurors' comments; the appeal; header 3
    with django_assert_num_queries(9):
        page = client.get(reverse("moderation:jury-result", args=[jury.pk])).content.decode()
    assert all(f"{answer} comment" in page for answer in [BREAKS, KEEPS, CLOSE_BREAK])


def test_sweep_command_replaces_late_jurors(alerted, capsys):
    JurySeat.objects.filter(jury=alerted.jury).update(deadline_at=timezone.now() - timedelta(hours=1))
    call_command("sweep_juries")
    assert "Replaced 7 late jurors." in capsys.readouterr().out
    # Twelve members in the pool: five could be seated again.
    assert alerted.jury.seats.filter(is_replaced=False).count() == 5


def test_jury_without_anyone_left_to_answer_closes_on_the_answers_given(alerted):
    jury = alerted.jury
    _vote(jury, [BREAKS, BREAKS])
    User.objects.exclude(jury_seats__jury=jury).update(jury_available=False)
    JurySeat.objects.filter(jury=jury, answer="").update(deadline_at=timezone.now() - timedelta(hours=1))
    juries_sweep()
    jury.refresh_from_db()
    assert (jury.is_open, jury.verdict) == (False, "keep")


# Consequences.


def test_five_hidden_posts_in_90_days_stop_posting_and_serving(member, forum, thread, opening_post):
    for n in range(5):
        post = ReplyFactory(parent=opening_post, author=member)
        Post.objects.filter(pk=post.pk).update(is_hidden=True, hidden_at=timezone.now() - timedelta(days=n))
    # Hidden over several days, which no service does at once: store what they add up to.
    member_restriction_refresh(member_id=member.pk)
    member.refresh_from_db()
    with pytest.raises(PermissionDenied, match="hidden posts in the last 90 days"):
        reply_create(author=member, parent=opening_post, body="again")
    assert member.pk not in [m.pk for m in eligible_jurors(opening_post) if m.recent_hidden < 5]
    # Recommending and alerting stay possible.
    recommendation_set(member=member, post=ReplyFactory(parent=opening_post), recommend=True)


def test_profile_lists_hidden_posts_of_the_last_90_days(client, reply):
    Post.objects.filter(pk=reply.pk).update(is_hidden=True, hidden_at=timezone.now())
    page = client.get(reply.author.get_absolute_url()).content.decode()
    assert "Hidden posts in the last 90 days" in page
    assert reply.subject in page.split("Hidden posts in the last 90 days")[1]


# Races, on PostgreSQL (SQLite serialises all writers).


@pytest.mark.django_db(transaction=True)
def test_simultaneous_votes_leave_one_consistent_verdict():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    MemberFactory.create_batch(12)
    rule = alert_rule_create(slug="rule", name="No personal attacks")
    thread = ThreadFactory()
    reply = ReplyFactory(parent=thread.posts.get(number=0))
    alert = alert_create(alerter=MemberFactory(), post=reply, rule=rule, rng=random.Random(5))
    jury = alert.jury
    seats = list(jury.seats.select_related("juror"))
    _vote(jury, [BREAKS, BREAKS, BREAKS])
    racers = [seat.juror for seat in seats[3:7]]
    barrier = threading.Barrier(len(racers))
    errors = []

    def vote(juror):
        try:
            barrier.wait()
            jury_vote(juror=juror, jury=jury, answer=BREAKS, rng=random.Random(6))
        except ValidationError as refusal:
            errors.append(refusal.messages[0])
        finally:
            connection.close()

    workers = [threading.Thread(target=vote, args=(juror,)) for juror in racers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    jury.refresh_from_db()
    assert (jury.is_open, jury.verdict, jury.breaks_votes) == (False, "hide", 4)
    assert len(errors) == 3  # the three who arrived after the verdict were refused
    assert ModerationAction.objects.filter(kind="verdict_hide").count() == 1
    assert JurySeat.objects.filter(jury=jury).exclude(answer="").count() == 4


def test_hiding_a_fifth_post_restricts_the_member_until_the_oldest_leaves_the_window(
    member, opening_post
):
    """The restriction is kept on the member's row by the hiding and showing services,
    so that checking it costs no query (accounts.standing)."""
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    posts = [ReplyFactory(parent=opening_post, author=member) for _ in range(5)]
    for post in posts[:4]:
        post_hide(staff=staff, post=post, hide=True)
    member.refresh_from_db()
    assert member.restricted_until is None
    reply_create(author=member, parent=opening_post, body="Four hidden posts still allow this.")

    post_hide(staff=staff, post=posts[4], hide=True)
    member.refresh_from_db()
    oldest = Post.objects.get(pk=posts[0].pk).hidden_at
    assert member.restricted_until == oldest + timedelta(days=90)
    with pytest.raises(PermissionDenied, match="hidden posts in the last 90 days"):
        reply_create(author=member, parent=opening_post, body="again")

    post_hide(staff=staff, post=posts[2], hide=False)
    member.refresh_from_db()
    assert member.restricted_until is None
    reply_create(author=member, parent=opening_post, body="Shown again, so posting is back.")
