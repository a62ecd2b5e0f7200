"""Polls on opening posts: what makes a valid poll, the writes (create, vote, close) and
what a thread page shows of a poll to one reader.

A member's vote is one PollVote row per poll, which a unique constraint keeps single
when two requests race, with a PollChoice per option chosen. Counts are columns (each
option's votes, the poll's voters) moved with F() in the voting transaction, so pages
print them and never count rows. Voting locks the poll's row first: every vote and
the closing of the poll then go one after another, in the same order on every
database, and a vote never lands after the poll closed.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config import page_cache

from .models import Poll, PollChoice, PollOption, PollVote, Post, Thread
from .permissions import can_read_text, can_vote, check_poll_create_permission, check_vote_permission

QUESTION_MAX = 300
OPTION_MAX = 200
OPTIONS_MIN = 2
OPTIONS_MAX = 20

QUESTION_REQUIRED = gettext_noop("Give your poll a question.")
QUESTION_TOO_LONG = gettext_noop("Keep the question to 300 characters (it has {length}).")
TOO_FEW_OPTIONS = gettext_noop("A poll needs at least 2 options, one per line.")
TOO_MANY_OPTIONS = gettext_noop("A poll can have at most 20 options (this one has {count}).")
OPTION_TOO_LONG = gettext_noop("Keep each option to 200 characters (option {number} has {length}).")
OPTION_TWICE = gettext_noop("Each option must be different: “{option}” is there twice.")
MAX_CHOICES_RANGE = gettext_noop(
    "Members can choose from 1 up to the number of options ({count}), not {value}."
)
CLOSES_IN_THE_PAST = gettext_noop("The closing time must be in the future.")
CHOOSE_AN_OPTION = gettext_noop("Choose an option before voting.")
TOO_MANY_CHOICES = gettext_noop("You can choose at most {count} options in this poll.")
NOT_AN_OPTION = gettext_noop("That option is not one of this poll's.")
ALREADY_VOTED = gettext_noop("You have already voted in this poll.")
POLL_CLOSED = gettext_noop("This poll is closed: it takes no more votes.")
POLL_LOCKED = gettext_noop("This thread is locked, so its poll takes no more votes.")
POLL_GONE = gettext_noop("This poll's post was removed, so it takes no votes.")


@dataclass(frozen=True)
class PollSpec:
    """A poll as its author asked for it, cleaned (poll_spec) and ready to create."""

    question: str
    options: tuple[str, ...]
    max_choices: int = 1
    allows_vote_change: bool = False
    results_shown: str = Poll.Results.AFTER_VOTING
    closes_at: datetime | None = None


def option_lines(text: str) -> list[str]:
    """The options typed one per line, blank lines left out."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def poll_spec(
    *,
    question: str,
    options: list[str],
    max_choices: int | None = 1,
    allows_vote_change: bool = False,
    results_shown: str = Poll.Results.AFTER_VOTING,
    closes_at: datetime | None = None,
) -> PollSpec:
    """Check a poll before it is created; raise ValidationError keyed by the fields of
    forums.forms.PollForm, so the form shows each message next to its field."""
    question = " ".join(question.split())
    if not question:
        raise ValidationError({"question": _(QUESTION_REQUIRED)})
    if len(question) > QUESTION_MAX:
        raise ValidationError({"question": _(QUESTION_TOO_LONG).format(length=len(question))})
    options = [" ".join(option.split()) for option in options if option.strip()]
    if len(options) < OPTIONS_MIN:
        raise ValidationError({"options": _(TOO_FEW_OPTIONS)})
    if len(options) > OPTIONS_MAX:
        raise ValidationError({"options": _(TOO_MANY_OPTIONS).format(count=len(options))})
    seen = set()
    for number, option in enumerate(options, start=1):
        if len(option) > OPTION_MAX:
            raise ValidationError({"options": _(OPTION_TOO_LONG).format(number=number, length=len(option))})
        if option.casefold() in seen:
            raise ValidationError({"options": _(OPTION_TWICE).format(option=option)})
        seen.add(option.casefold())
    max_choices = max_choices or 1
    if not 1 <= max_choices <= len(options):
        raise ValidationError(
            {"max_choices": _(MAX_CHOICES_RANGE).format(count=len(options), value=max_choices)}
        )
    if closes_at is not None and closes_at <= timezone.now():
        raise ValidationError({"closes_at": _(CLOSES_IN_THE_PAST)})
    return PollSpec(
        question=question, options=tuple(options), max_choices=max_choices,
        allows_vote_change=allows_vote_change, results_shown=Poll.Results(results_shown),
        closes_at=closes_at,
    )


def poll_create(*, author, thread: Thread, spec: PollSpec) -> Poll:
    """Put a poll on a new thread's opening post. Called by forums.services.thread_create
    inside its transaction, before anyone can see the thread; FORUMS_POLLS_FOR decides
    who may."""
    check_poll_create_permission(author)
    try:
        spec = poll_spec(**{name: getattr(spec, name) for name in PollSpec.__dataclass_fields__})
    except ValidationError as refusal:
        # The thread's form has no poll fields to show these next to.
        raise ValidationError(refusal.messages) from refusal
    poll = Poll.objects.create(
        thread=thread, question=spec.question, max_choices=spec.max_choices,
        allows_vote_change=spec.allows_vote_change, results_shown=spec.results_shown,
        closes_at=spec.closes_at, created_at=thread.created_at,
    )
    PollOption.objects.bulk_create(
        PollOption(poll=poll, position=position, text=text) for position, text in enumerate(spec.options)
    )
    Thread.objects.filter(pk=thread.pk).update(has_poll=True)
    thread.has_poll = True
    return poll


@transaction.atomic
def poll_vote(*, member, thread: Thread, options) -> PollVote:
    """Vote in a thread's poll with the chosen options (PollOption rows or ids), or
    change one's vote where the poll allows it. Members in good standing, while the
    poll is open and its post is there.

    Locks the poll's row, so votes and the closing go one at a time; the unique
    constraint on (poll, member) still refuses a second vote that got past the check.
    """
    check_vote_permission(member)
    poll = Poll.objects.select_for_update().get(thread=thread.pk)
    opening_post = (
        Post.objects.select_related("thread").only("is_deleted", "is_hidden", "thread__is_locked")
        .get(thread=thread.pk, number=0)
    )
    if opening_post.is_deleted or opening_post.is_hidden:
        raise ValidationError(_(POLL_GONE))
    if opening_post.thread.is_locked:  # as replies are refused: nothing more is added
        raise ValidationError(_(POLL_LOCKED))
    if poll.is_closed():
        raise ValidationError(_(POLL_CLOSED))
    chosen = {getattr(option, "pk", option) for option in options}
    if not chosen:
        raise ValidationError(_(CHOOSE_AN_OPTION))
    if len(chosen) > poll.max_choices:
        raise ValidationError(_(TOO_MANY_CHOICES).format(count=poll.max_choices))
    if PollOption.objects.filter(poll=poll, pk__in=chosen).count() != len(chosen):
        raise ValidationError(_(NOT_AN_OPTION))
    now = timezone.now()
    vote = PollVote.objects.select_for_update().filter(poll=poll, member=member).first()
    if vote is None:
        try:
            with transaction.atomic():
                vote = PollVote.objects.create(poll=poll, member=member, cast_at=now)
        except IntegrityError:
            raise ValidationError(_(ALREADY_VOTED)) from None
        Poll.objects.filter(pk=poll.pk).update(voter_count=F("voter_count") + 1)
        added, removed = chosen, set()
    elif not poll.allows_vote_change:
        raise ValidationError(_(ALREADY_VOTED))
    else:
        before = set(vote.choices.values_list("option_id", flat=True))
        added, removed = chosen - before, before - chosen
        vote.choices.filter(option__in=removed).delete()
        vote.cast_at = now
        vote.save(update_fields=["cast_at"])
    PollChoice.objects.bulk_create(PollChoice(vote=vote, option_id=option_id) for option_id in sorted(added))
    for changed, step in ((added, 1), (removed, -1)):
        if changed:
            PollOption.objects.filter(pk__in=changed).update(vote_count=F("vote_count") + step)
    # Visitors' copies of the thread show the counts.
    page_cache.changed(page_cache.thread(thread.pk))
    return vote


@transaction.atomic
def poll_close_write(*, thread: Thread) -> Poll | None:
    """Close a thread's poll now; None when it was closed already. The write half of
    closing: moderation.services.poll_close checks who may (hosts and staff) and logs
    it. Locks the poll's row, so no vote lands after it."""
    poll = Poll.objects.select_for_update().get(thread=thread.pk)
    if poll.is_closed():
        return None
    poll.closed_at = timezone.now()
    poll.save(update_fields=["closed_at"])
    page_cache.changed(page_cache.thread(thread.pk))
    return poll


@dataclass
class OptionLine:
    pk: int
    text: str
    vote_count: int
    percent: int
    chosen: bool


@dataclass
class PollPage:
    """What a thread page shows of its poll to one reader."""

    question: str
    max_choices: int
    allows_vote_change: bool
    results_shown: str
    closes_at: datetime | None
    is_closed: bool
    voter_count: int
    options: list[OptionLine]
    has_voted: bool
    show_results: bool
    can_vote: bool
    # A member whose standing (suspended, restricted) keeps them from voting.
    standing_refuses: bool
    vote_url: str

    @property
    def is_multiple_choice(self) -> bool:
        return self.max_choices > 1


def poll_page(thread: Thread, user, opening_post) -> PollPage | None:
    """The thread's poll for `user`, or None when the thread has none or its opening
    post's text is not for them (deleted, or hidden from all but staff, who see it but
    cannot vote). One query, and none for a thread without a poll."""
    if not thread.has_poll or not can_read_text(user, opening_post):
        return None
    rows = list(PollOption.objects.for_thread_page(thread, user))
    if not rows:
        return None
    head = rows[0]
    voters = head.poll__voter_count
    # A locked thread's poll takes no votes, so it reads as closed until an unlock.
    is_closed = thread.is_locked or head.poll__closed_at is not None or (
        head.poll__closes_at is not None and head.poll__closes_at <= timezone.now()
    )
    has_voted = any(row.chosen for row in rows)
    results_shown = head.poll__results_shown
    show_results = (
        results_shown == Poll.Results.ALWAYS
        or is_closed
        or (results_shown == Poll.Results.AFTER_VOTING and has_voted)
    )
    return PollPage(
        question=head.poll__question, max_choices=head.poll__max_choices,
        allows_vote_change=head.poll__allows_vote_change, results_shown=results_shown,
        closes_at=head.poll__closes_at, is_closed=is_closed, voter_count=voters,
        options=[
            OptionLine(row.pk, row.text, row.vote_count, round(100 * row.vote_count / voters) if voters else 0,
                       bool(row.chosen))
            for row in rows
        ],
        has_voted=has_voted, show_results=show_results,
        can_vote=(
            user.is_authenticated and can_vote(user) and not is_closed and not opening_post.is_hidden
            and (not has_voted or head.poll__allows_vote_change)
        ),
        standing_refuses=user.is_authenticated and not can_vote(user),
        vote_url=reverse("forums:poll-vote", args=[thread.pk]),
    )
