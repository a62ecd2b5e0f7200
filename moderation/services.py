"""Every moderation write: alerts, juries, hosts' and staff's actions, appeals.

Each action lands in the public log (ModerationAction) in the same transaction.
"""

import random
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.standing import check_active_member, is_restricted
from config import page_cache
from conversations.services import jury_result_deliver
from forums.models import Forum, ForumBlock, Notification, Post, Recommendation, Thread
from forums.polls import poll_close_write
from forums.services import notifications_create, thread_forum_change

from .models import Alert, AlertRule, Appeal, Jury, JurySeat, ModerationAction
from .permissions import (
    CANNOT_ALERT_HIDDEN,
    OWN_POST,
    check_moderate_permission,
    check_staff_permission,
)

ALERT_DUPLICATE = gettext_noop("This post has already been alerted for breaking that rule.")
ALERT_GONE = gettext_noop("This post is no longer there.")
NOT_A_JUROR = gettext_noop("You are not on this jury.")
JURY_CLOSED = gettext_noop("This jury has already reached its verdict.")
ALREADY_VOTED = gettext_noop("You have already answered.")
APPEAL_ONLY_POSTER = gettext_noop("Only the poster can appeal a verdict on their post.")
APPEAL_ONLY_HIDE = gettext_noop("Only a verdict that hid a post can be appealed.")
APPEAL_TWICE = gettext_noop("This verdict has already been appealed.")

CHANCE_MAX = 100


def _log(kind, role, *, actor=None, post=None, thread=None, forum=None, member=None, reason=""):
    if post is not None:
        thread = thread or post.thread
    if thread is not None:
        forum = forum or thread.forum
    page_cache.changed(page_cache.MODERATION_LOG)
    return ModerationAction.objects.create(
        kind=kind, role=role, actor=actor, post=post, thread=thread, forum=forum,
        member=member, reason=reason, created_at=timezone.now(),
    )


def _notify(recipients, *, kind, post, jury):
    notifications_create(
        recipients=dict.fromkeys((member_id for member_id in recipients if member_id), kind),
        post=post, jury=jury,
    )


# The chance to serve on a jury (DESIGN.md section 6).


def chance_to_serve(*, post_count: int, days_member: int, recent_posts: int, is_star: bool,
                    recent_hidden: int) -> int:
    """0-100: +1 per 100 posts (max 20), +1 per 10 days of membership (max 20), +1 per
    post in the last 90 days (max 20), +40 for Star Members, -20 per hidden post in
    the last 90 days."""
    chance = (
        min(post_count // 100, 20)
        + min(days_member // 10, 20)
        + min(recent_posts, 20)
        + (40 if is_star else 0)
        - 20 * recent_hidden
    )
    return max(0, min(CHANCE_MAX, chance))


def _with_jury_facts(members):
    since = timezone.now() - timedelta(days=settings.FORUMS_HIDDEN_WINDOW_DAYS)
    return members.annotate(
        recent_posts=Count("posts", filter=Q(posts__created_at__gte=since), distinct=True),
        recent_hidden=Count(
            "posts", filter=Q(posts__is_hidden=True, posts__hidden_at__gte=since), distinct=True
        ),
    )


def member_chance(member) -> int:
    """The chance shown to a member on their settings page."""
    facts = _with_jury_facts(User.objects.filter(pk=member.pk)).get()
    return _chance_of(facts)


def _chance_of(member) -> int:
    return chance_to_serve(
        post_count=member.post_count,
        days_member=(timezone.now() - member.date_joined).days,
        recent_posts=member.recent_posts,
        is_star=member.is_star,
        recent_hidden=member.recent_hidden,
    )


def eligible_jurors(post: Post, *, excluding=()):
    """Members who may judge `post`: available, active, not suspended, not restricted,
    not its poster or the alerters, not in its thread nor among its recommenders, and
    not on the poster's jury blacklist."""
    now = timezone.now()
    thread_posters = Post.objects.filter(thread_id=post.thread_id).values("author_id")
    recommenders = Recommendation.objects.filter(thread_id=post.thread_id).values("member_id")
    alerters = Alert.objects.filter(post=post).values("alerter_id")
    blacklisted = User.jury_blacklist.through.objects.filter(from_user_id=post.author_id).values(
        "to_user_id"
    )
    candidates = (
        User.objects.filter(is_active=True, jury_available=True)
        .exclude(Q(is_suspended=True) & (Q(suspended_until__isnull=True) | Q(suspended_until__gt=now)))
        # Restricted by recently hidden posts (accounts.standing.is_restricted).
        .exclude(restricted_until__gt=now)
        .exclude(pk__in=thread_posters)
        .exclude(pk__in=recommenders)
        .exclude(pk__in=alerters)
        .exclude(pk__in=blacklisted)
        .exclude(pk__in=list(excluding))
    )
    return _with_jury_facts(candidates)


def _draw(candidates, count: int, rng: random.Random) -> list:
    """Draw `count` members at random without replacement, weighted by chance to serve."""
    # Everyone eligible keeps a small chance, so a young community can still seat juries.
    pool = [(member, max(_chance_of(member), 1)) for member in candidates]
    chosen = []
    while pool and len(chosen) < count:
        total = sum(weight for _member, weight in pool)
        pick = rng.uniform(0, total)
        for index, (member, weight) in enumerate(pool):
            pick -= weight
            if pick <= 0:
                break
        chosen.append(pool.pop(index)[0])
    return chosen


def _seat(jury: Jury, jurors) -> None:
    now = timezone.now()
    deadline = now + timedelta(hours=settings.FORUMS_JURY_DEADLINE_HOURS)
    JurySeat.objects.bulk_create(
        JurySeat(jury=jury, juror=juror, seated_at=now, deadline_at=deadline) for juror in jurors
    )
    _notify([juror.pk for juror in jurors], kind=Notification.Kind.JURY, post=jury.post, jury=jury)


def _convene(alert: Alert, rng: random.Random) -> Jury:
    """Seat a jury for an alert. Call inside a transaction that locks the post."""
    jury = Jury.objects.create(alert=alert, post=alert.post, created_at=timezone.now())
    alert.status = Alert.Status.JUDGED
    alert.save(update_fields=["status"])
    _seat(jury, _draw(eligible_jurors(alert.post), settings.FORUMS_JURY_SIZE, rng))
    return jury


@transaction.atomic
def alert_create(*, alerter, post: Post, rule: AlertRule, comment: str = "",
                 rng: random.Random | None = None) -> Alert:
    """Alert a post for breaking a rule. Members, not on their own posts; one alert per
    rule per post. A jury is seated at once unless one already sits on the post, in
    which case the alert waits for it."""
    check_active_member(alerter)
    post = Post.objects.select_for_update().select_related("thread").get(pk=post.pk)
    if post.author_id == alerter.pk:
        raise PermissionDenied(_(OWN_POST))
    if post.is_deleted:
        raise ValidationError(_(ALERT_GONE))
    if post.is_hidden:
        raise ValidationError(_(CANNOT_ALERT_HIDDEN))
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                post=post, rule=rule, alerter=alerter, comment=comment.strip()[:500],
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise ValidationError(_(ALERT_DUPLICATE)) from None
    if not Jury.objects.filter(post=post, is_open=True).exists():
        _convene(alert, rng or random.SystemRandom())
    return alert


def member_restriction_refresh(*, member_id: int) -> None:
    """Store on the member when their restriction ends (accounts.standing reads it):
    with FORUMS_HIDDEN_POSTS_LIMIT posts hidden within the window, the moment the oldest
    of them leaves it. Called in the transaction that hides or shows one of their posts."""
    window = timedelta(days=settings.FORUMS_HIDDEN_WINDOW_DAYS)
    limit = settings.FORUMS_HIDDEN_POSTS_LIMIT
    hidden = list(
        Post.objects.filter(author_id=member_id, is_hidden=True, hidden_at__gte=timezone.now() - window)
        .order_by("-hidden_at")
        .values_list("hidden_at", flat=True)[:limit]
    )
    until = hidden[-1] + window if len(hidden) >= limit else None
    User.objects.filter(pk=member_id).update(restricted_until=until)


def _set_hidden(post: Post, *, hide: bool, now) -> None:
    Post.objects.filter(pk=post.pk).update(is_hidden=hide, hidden_at=now if hide else None)
    member_restriction_refresh(member_id=post.author_id)
    # The author's profile lists what was hidden of theirs lately.
    page_cache.changed(
        page_cache.thread(post.thread_id), page_cache.POSTS, page_cache.profile(post.author.username)
    )


def _close(jury: Jury, verdict: str, rng: random.Random) -> None:
    """Close a jury (its row locked by the caller), apply the verdict, tell the poster
    and the alerter, and seat a jury for the next alert waiting on the post."""
    now = timezone.now()
    jury.is_open, jury.verdict, jury.closed_at = False, verdict, now
    jury.save(update_fields=["is_open", "verdict", "closed_at"])
    post = jury.post
    reason = _("%(rule)s: %(breaks)d of %(seats)d jurors said it breaks the rule") % {
        "rule": jury.alert.rule.name, "breaks": jury.breaks_votes,
        "seats": jury.breaks_votes + jury.keeps_votes,
    }
    if verdict == Jury.Verdict.HIDE:
        _set_hidden(post, hide=True, now=now)
        _log(ModerationAction.Kind.VERDICT_HIDE, ModerationAction.Role.JURY, post=post,
             member=post.author, reason=reason)
        # A hidden post is gone for the purpose of further alerts.
        Alert.objects.filter(post=post, status=Alert.Status.WAITING).update(status=Alert.Status.DROPPED)
    else:
        _log(ModerationAction.Kind.VERDICT_KEEP, ModerationAction.Role.JURY, post=post,
             member=post.author, reason=reason)
    _notify([post.author_id, jury.alert.alerter_id], kind=Notification.Kind.VERDICT, post=post, jury=jury)
    jury_result_deliver(jury=jury)
    if verdict != Jury.Verdict.HIDE:
        waiting = Alert.objects.filter(post=post, status=Alert.Status.WAITING).first()
        if waiting and not post.is_deleted:
            _convene(waiting, rng)
        elif waiting:
            Alert.objects.filter(post=post, status=Alert.Status.WAITING).update(status=Alert.Status.DROPPED)


def _decide_if_settled(jury: Jury, rng: random.Random) -> None:
    size, needed = settings.FORUMS_JURY_SIZE, settings.FORUMS_JURY_VOTES_TO_HIDE
    if jury.breaks_votes >= needed:
        _close(jury, Jury.Verdict.HIDE, rng)
    elif jury.keeps_votes > size - needed:
        # Enough jurors said it does not break the rule that 4 "breaks" can't happen.
        _close(jury, Jury.Verdict.KEEP, rng)


@transaction.atomic
def jury_vote(*, juror, jury: Jury, answer: str, comment: str = "",
              rng: random.Random | None = None) -> JurySeat:
    """Record a juror's answer. The jury row is locked, so simultaneous votes, and a
    vote racing the jury's closing, are applied one after the other. A juror suspended
    since being seated cannot answer; the deadline replaces them."""
    check_active_member(juror)
    jury = Jury.objects.select_for_update().select_related("alert__rule", "post").get(pk=jury.pk)
    rng = rng or random.SystemRandom()
    _enforce_deadlines(jury, rng)
    seat = JurySeat.objects.filter(jury=jury, juror=juror, is_replaced=False).first()
    if seat is None:
        raise PermissionDenied(_(NOT_A_JUROR))
    if not jury.is_open:
        raise ValidationError(_(JURY_CLOSED))
    if seat.answer:
        raise ValidationError(_(ALREADY_VOTED))
    if answer not in JurySeat.Answer.values:
        raise ValidationError(_("Choose one of the four answers."))
    seat.answer, seat.comment, seat.answered_at = answer, comment.strip()[:500], timezone.now()
    seat.save(update_fields=["answer", "comment", "answered_at"])
    if answer in JurySeat.BREAKS:
        jury.breaks_votes += 1
    else:
        jury.keeps_votes += 1
    jury.save(update_fields=["breaks_votes", "keeps_votes"])
    _decide_if_settled(jury, rng)
    return seat


def _enforce_deadlines(jury: Jury, rng: random.Random) -> int:
    """Replace jurors whose deadline passed without an answer (jury row locked by the
    caller). If nobody is left to seat and no verdict can come, the post stays."""
    if not jury.is_open:
        return 0
    late = list(_late_seats(jury))
    if not late:
        return 0
    JurySeat.objects.filter(pk__in=[seat.pk for seat in late]).update(is_replaced=True)
    everyone = JurySeat.objects.filter(jury=jury).values_list("juror_id", flat=True)
    replacements = _draw(eligible_jurors(jury.post, excluding=everyone), len(late), rng)
    _seat(jury, replacements)
    active = JurySeat.objects.filter(jury=jury, is_replaced=False)
    if not active.filter(answer="").exists():
        # Nobody left to answer: decide on the answers given.
        verdict = (
            Jury.Verdict.HIDE
            if jury.breaks_votes >= settings.FORUMS_JURY_VOTES_TO_HIDE
            else Jury.Verdict.KEEP
        )
        _close(jury, verdict, rng)
    return len(late)


def _late_seats(jury: Jury):
    """Seats still to answer whose deadline has passed."""
    return JurySeat.objects.filter(jury=jury, is_replaced=False, answer="", deadline_at__lte=timezone.now())


def jury_enforce_deadlines(*, jury: Jury, rng: random.Random | None = None) -> int:
    """Replace late jurors of one jury; returns how many. Called whenever a jury is
    looked at, and juries_sweep (the sweep_juries command) does the same for the juries
    it finds late, so nothing depends on a scheduler.

    Most looks find no juror late: that costs one read, and the jury is locked only
    when there is something to replace (a page view that locked the row wrote to it on
    PostgreSQL, and waited behind any vote being counted)."""
    if not jury.is_open or not _late_seats(jury).exists():
        return 0
    return _enforce_deadlines_locked(jury.pk, rng or random.SystemRandom())


@transaction.atomic
def _enforce_deadlines_locked(jury_pk: int, rng: random.Random) -> int:
    jury = Jury.objects.select_for_update().select_related("alert__rule", "post").get(pk=jury_pk)
    return _enforce_deadlines(jury, rng)


def juries_sweep(rng: random.Random | None = None) -> int:
    """Enforce the deadlines of every open jury with a late juror. The query found
    them late, so each is locked at once (jury_enforce_deadlines would ask again)."""
    late = Jury.objects.filter(
        is_open=True, seats__is_replaced=False, seats__answer="", seats__deadline_at__lte=timezone.now()
    ).distinct().values_list("pk", flat=True)
    rng = rng or random.SystemRandom()
    return sum(_enforce_deadlines_locked(jury_pk, rng) for jury_pk in late)


@transaction.atomic
def appeal_create(*, member, jury: Jury, text: str) -> Appeal:
    """The poster appeals a verdict that hid their post, once."""
    check_active_member(member)
    if jury.post.author_id != member.pk:
        raise PermissionDenied(_(APPEAL_ONLY_POSTER))
    if jury.verdict != Jury.Verdict.HIDE:
        raise ValidationError(_(APPEAL_ONLY_HIDE))
    if Appeal.objects.filter(jury=jury).exists():
        raise ValidationError(_(APPEAL_TWICE))
    appeal = Appeal(jury=jury, text=text.strip(), created_at=timezone.now())
    appeal.full_clean()
    appeal.save()
    return appeal


@transaction.atomic
def appeal_decide(*, staff, appeal: Appeal, overturn: bool) -> Appeal:
    """Staff uphold or overturn an appealed verdict."""
    check_staff_permission(staff)
    appeal = Appeal.objects.select_for_update().select_related("jury__post__thread__forum").get(pk=appeal.pk)
    if appeal.decision:
        raise ValidationError(_("This appeal has already been decided."))
    appeal.decision = Appeal.Decision.OVERTURNED if overturn else Appeal.Decision.UPHELD
    appeal.decided_by, appeal.decided_at = staff, timezone.now()
    appeal.save(update_fields=["decision", "decided_by", "decided_at"])
    post = appeal.jury.post
    if overturn:
        _set_hidden(post, hide=False, now=timezone.now())
    _log(
        ModerationAction.Kind.APPEAL_OVERTURNED if overturn else ModerationAction.Kind.APPEAL_UPHELD,
        ModerationAction.Role.STAFF, actor=staff, post=post, member=post.author,
    )
    return appeal


# Hosts and staff.


@transaction.atomic
def post_hide(*, staff, post: Post, hide: bool, reason: str = "") -> Post:
    """Staff hide or show again any post."""
    check_staff_permission(staff)
    _set_hidden(post, hide=hide, now=timezone.now())
    post.refresh_from_db()
    _log(ModerationAction.Kind.HIDE if hide else ModerationAction.Kind.UNHIDE,
         ModerationAction.Role.STAFF, actor=staff, post=post, member=post.author, reason=reason)
    return post


@transaction.atomic
def thread_lock(*, moderator, thread: Thread, lock: bool, reason: str = "") -> Thread:
    """Hosts of the thread's forum and staff lock or unlock it. Locking puts a notice
    on the opening post."""
    role = check_moderate_permission(moderator, thread.forum)
    notice = ""
    if lock:
        notice = _("Locked by %(name)s (%(role)s)") % {
            "name": moderator.public_name, "role": ModerationAction.Role(role).label.lower(),
        }
        if reason:
            notice = f"{notice}: {reason}"
    Thread.objects.filter(pk=thread.pk).update(is_locked=lock, lock_notice=notice[:300])
    page_cache.changed(page_cache.thread(thread.pk), page_cache.forum(thread.forum.slug), page_cache.LISTS)
    _log(ModerationAction.Kind.LOCK if lock else ModerationAction.Kind.UNLOCK, role,
         actor=moderator, thread=thread, reason=reason)
    thread.refresh_from_db()
    return thread


@transaction.atomic
def thread_pin(*, moderator, thread: Thread, pin: bool) -> Thread:
    """Hosts of the thread's forum and staff pin or unpin it."""
    role = check_moderate_permission(moderator, thread.forum)
    Thread.objects.filter(pk=thread.pk).update(is_pinned=pin)
    page_cache.changed(page_cache.thread(thread.pk), page_cache.forum(thread.forum.slug), page_cache.LISTS)
    _log(ModerationAction.Kind.PIN if pin else ModerationAction.Kind.UNPIN, role,
         actor=moderator, thread=thread)
    thread.refresh_from_db()
    return thread


@transaction.atomic
def poll_close(*, moderator, thread: Thread) -> bool:
    """Hosts of the thread's forum and staff close its poll before its closing time (or
    when it has none); everyone then sees the results. False when it was closed already."""
    role = check_moderate_permission(moderator, thread.forum)
    if poll_close_write(thread=thread) is None:
        return False
    _log(ModerationAction.Kind.POLL_CLOSE, role, actor=moderator, thread=thread)
    return True


@transaction.atomic
def thread_move(*, moderator, thread: Thread, to_forum: Forum, reason: str = "") -> Thread:
    """Move a thread to another forum: hosts between forums they host, staff anywhere.
    Both forums' counters move with it (forums.services.thread_forum_change)."""
    thread = Thread.objects.select_for_update().select_related("forum").get(pk=thread.pk)
    role = check_moderate_permission(moderator, thread.forum)
    if role == "host":
        check_moderate_permission(moderator, to_forum)
    if to_forum.pk == thread.forum_id:
        return thread
    from_forum = thread.forum
    thread = thread_forum_change(thread=thread, forum=to_forum)
    _log(ModerationAction.Kind.MOVE, role, actor=moderator, thread=thread, forum=to_forum,
         reason=reason or _("from %(forum)s") % {"forum": from_forum.name})
    return thread


@transaction.atomic
def member_block(*, moderator, forum: Forum, member, block: bool, reason: str = "") -> bool:
    """Hosts and staff block a member from posting in a forum (or lift the block)."""
    role = check_moderate_permission(moderator, forum)
    if block:
        ForumBlock.objects.update_or_create(forum=forum, member=member, defaults={"reason": reason})
    else:
        ForumBlock.objects.filter(forum=forum, member=member).delete()
    page_cache.changed(page_cache.forum(forum.slug))  # "About this forum" lists them
    _log(ModerationAction.Kind.BLOCK if block else ModerationAction.Kind.UNBLOCK, role,
         actor=moderator, forum=forum, member=member, reason=reason)
    return block


HOST_RESTRICTED = gettext_noop("{name} cannot host now: too many posts hidden recently.")


@transaction.atomic
def host_add(*, moderator, forum: Forum, member) -> None:
    """Hosts add hosts to their forum; staff appoint hosts anywhere."""
    role = check_moderate_permission(moderator, forum)
    if is_restricted(member):
        raise ValidationError(_(HOST_RESTRICTED).format(name=member.public_name))
    forum.hosts.add(member)
    # "About this forum" lists hosts; their posts carry a Host badge.
    page_cache.changed(page_cache.forum(forum.slug), page_cache.member(member.pk))
    _log(ModerationAction.Kind.ADD_HOST, role, actor=moderator, forum=forum, member=member)


def log_host_changes(*, staff, forum: Forum, added, removed) -> None:
    """Record hosts that staff appointed or removed in the admin."""
    for member in added:
        _log(ModerationAction.Kind.ADD_HOST, ModerationAction.Role.STAFF, actor=staff, forum=forum, member=member)
    for member in removed:
        _log(ModerationAction.Kind.REMOVE_HOST, ModerationAction.Role.STAFF, actor=staff, forum=forum, member=member)


def log_suspension(*, staff, member, suspended: bool) -> None:
    """Record a suspension or reinstatement made by staff (in the admin)."""
    _log(ModerationAction.Kind.SUSPEND if suspended else ModerationAction.Kind.REINSTATE,
         ModerationAction.Role.STAFF, actor=staff, member=member, reason=member.suspension_reason)


def alert_rule_create(*, slug: str, name: str, description: str = "", position: int = 0) -> AlertRule:
    """Add a rule members can alert posts for. Staff and seeds."""
    rule = AlertRule(slug=slug, name=name, description=description, position=position)
    rule.full_clean()
    rule.save()
    return rule
