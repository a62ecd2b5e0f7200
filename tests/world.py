"""Worlds: data that many tests read, built once per test module inside a transaction
that is rolled back when the module ends. Every test runs in a savepoint inside it
(pytest-django's `db`), so what a test writes is gone before the next one starts.
Building such data per test would cost more than the tests themselves.

`built_once` is the mechanism; `build_world` is the cast of the security suites (one
member per role, forums, threads, a hidden post, an open and a closed jury, a private
conversation and a Star code). Other modules build their own data with `built_once`
(tests/conftest.py `busy_forum`, tests/accounts/test_member_data.py `world`).
"""

import copy
import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from accounts.services import code_batch_create, member_create, member_suspend, member_update, star_grant
from conversations.models import Conversation
from conversations.services import conversation_create
from forums.models import Forum, Picture, Post, Thread
from forums.polls import PollSpec
from forums.services import forum_create, post_edit, reply_create, section_create, thread_create
from moderation.models import AlertRule, Jury, JurySeat
from moderation.services import (
    alert_create,
    alert_rule_create,
    host_add,
    jury_vote,
    member_block,
    poll_close,
    post_hide,
    thread_lock,
)

from .pictures import pending_picture, placed

# The roles of the authorisation table, in the order its cells are listed.
ROLES = [
    "visitor", "member", "suspended", "blocked", "star", "host", "other_host", "staff", "superuser",
]
PASSWORD = "correct horse battery staple"
HIDDEN_TEXT = "SECRET-HIDDEN-TEXT"
HIDDEN_FIRST_VERSION = "SECRET-FIRST-VERSION"
PRIVATE_TEXT = "PRIVATE-MESSAGE-TEXT"


@dataclass
class World:
    users: dict  # role -> User, or None for the visitor
    ann: User  # writes most posts; holds no role
    al: User  # the alerter of both juries
    jurors: list
    rule: AlertRule
    forum: Forum  # "Pets": hosted by `host`; `blocked` is blocked here
    hosted_forum: Forum  # "Cats": also hosted by `host`
    other_forum: Forum  # "Sports": hosted by `other_host`
    thread: Thread  # by `member`, in Pets
    opening_post: Post
    member_reply: Post  # by `member`, in `thread`
    other_reply: Post  # by ann, in `thread`; mentions every role
    other_thread: Thread  # by ann, in Pets
    locked_thread: Thread
    hidden_post: Post  # by ann, edited once, then hidden by staff
    verdict_post: Post  # by `member`, hidden by a jury: `closed_jury`
    closed_jury: Jury
    jury: Jury  # open; `member` is one of its seven jurors
    poll_thread: Thread  # by ann, in Pets, with an open poll nobody has voted in
    closed_poll_thread: Thread  # by ann, in Pets, its poll closed by staff
    conversation: Conversation  # between ann and `member` only
    star_code: str
    post_picture: Picture  # ann's, in other_reply
    hidden_picture: Picture  # ann's, in hidden_post
    pending_picture: Picture  # ann's, not placed anywhere
    message_picture: Picture  # ann's, in the conversation with `member`

    def user(self, role):
        return self.users[role]


def _member(username, *, joined_at):
    return member_create(
        username=username, email=f"{username}@example.org", display_name=username.title(),
        password=PASSWORD, joined_at=joined_at,
    )


def build_world() -> World:
    long_ago = timezone.now() - timedelta(days=400)
    names = {
        "member": "mia", "suspended": "sol", "blocked": "blake", "star": "stella",
        "host": "hank", "other_host": "otto", "staff": "stacy", "superuser": "root",
    }
    users = {"visitor": None}
    for role, username in names.items():
        users[role] = _member(username, joined_at=long_ago)
    User.objects.filter(pk=users["staff"].pk).update(is_staff=True)
    User.objects.filter(pk=users["superuser"].pk).update(is_staff=True, is_superuser=True)
    for role in ("staff", "superuser"):
        users[role].refresh_from_db()
    staff = users["staff"]
    ann, al = _member("ann", joined_at=long_ago), _member("al", joined_at=long_ago)
    jurors = [_member(f"juror{n}", joined_at=long_ago) for n in range(6)]
    rule = alert_rule_create(slug="personal-attack", name="No personal attacks")

    section = section_create(name="Pets and sports", slug="pets-and-sports", position=0)
    forum = forum_create(name="Pets", slug="pets", kind="topic", section=section, position=0)
    hosted_forum = forum_create(name="Cats", slug="cats", kind="topic", section=section, position=1)
    other_forum = forum_create(name="Sports", slug="sports", kind="topic", section=section, position=2)
    host_add(moderator=staff, forum=forum, member=users["host"])
    host_add(moderator=staff, forum=hosted_forum, member=users["host"])
    host_add(moderator=staff, forum=other_forum, member=users["other_host"])

    member = users["member"]
    thread = thread_create(forum=forum, author=member, title="Cats or dogs?", body="Which is better?")
    opening_post = thread.posts.get(number=0)
    member_reply = reply_create(author=member, parent=opening_post, body="Dogs, clearly.")
    mentions = " ".join(f"@{names[role]}" for role in names)
    post_picture = pending_picture(ann, "cat.png")
    other_reply = reply_create(
        author=ann, parent=opening_post, body=f"Cats. Asking {mentions} {placed(post_picture)}"
    )
    other_thread = thread_create(forum=forum, author=ann, title="Hamsters", body="Small and round.")
    locked_thread = thread_create(forum=forum, author=ann, title="Closed topic", body="No more.")
    thread_lock(moderator=staff, thread=locked_thread, lock=True, reason="Done")
    hidden_post = reply_create(
        author=ann, parent=other_thread.posts.get(number=0), subject="Hamster facts",
        body=HIDDEN_FIRST_VERSION,
    )
    hidden_picture = pending_picture(ann, "hamster.png")
    hidden_post = post_edit(
        editor=ann, post=hidden_post, body=f"{HIDDEN_TEXT} after an edit {placed(hidden_picture)}"
    )
    post_hide(staff=staff, post=hidden_post, hide=True, reason="Doxxing")

    # Juries draw from everyone available; only the six jurors (and, for the open
    # jury, `member`) are, so who sits is known.
    for role in names:
        member_update(member=users[role], jury_available=False)
    verdict_thread = thread_create(forum=other_forum, author=ann, title="Football", body="Who won?")
    verdict_post = reply_create(
        author=member, parent=verdict_thread.posts.get(number=0), body="You are all idiots."
    )
    alert = alert_create(alerter=al, post=verdict_post, rule=rule, rng=random.Random(1))
    closed_jury = alert.jury
    for juror in jurors[:4]:
        jury_vote(juror=juror, jury=closed_jury, answer=JurySeat.Answer.CLEAR_BREAK, rng=random.Random(2))
    closed_jury.refresh_from_db()
    assert closed_jury.verdict == Jury.Verdict.HIDE

    member_update(member=member, jury_available=True)
    jury_thread = thread_create(forum=other_forum, author=ann, title="Tennis", body="Anyone?")
    jury_post = reply_create(author=ann, parent=jury_thread.posts.get(number=0), body="You fools.")
    jury = alert_create(alerter=al, post=jury_post, rule=rule, rng=random.Random(3)).jury
    assert jury.seats.filter(juror=member).exists()

    poll_thread, closed_poll_thread = (
        thread_create(forum=forum, author=ann, title=title, body="Vote below.",
                      poll=PollSpec(question="Best pet?", options=("Cat", "Dog", "Fish")))
        for title in ("Pet poll", "Closed pet poll")
    )
    poll_close(moderator=staff, thread=closed_poll_thread)

    message_picture = pending_picture(ann, "plans.png")
    conversation = conversation_create(
        sender=ann, recipient=member, subject="Private plans",
        body=f"{PRIVATE_TEXT} {placed(message_picture)}",
    )
    unplaced_picture = pending_picture(ann, "later.png")
    batch = code_batch_create(label="Security suite", quantity=1, months=1, created_by=users["superuser"])
    star_grant(member=users["star"], months=12)
    member_block(moderator=staff, forum=forum, member=users["blocked"], block=True, reason="Trolling")
    member_suspend(member=users["suspended"], reason="Spam")

    for user in users.values():
        if user is not None:
            user.refresh_from_db()
    return World(
        users=users, ann=ann, al=al, jurors=jurors, rule=rule, forum=forum,
        hosted_forum=hosted_forum, other_forum=other_forum, thread=thread,
        opening_post=opening_post, member_reply=member_reply, other_reply=other_reply,
        other_thread=other_thread, locked_thread=locked_thread, hidden_post=hidden_post,
        verdict_post=verdict_post, closed_jury=closed_jury, jury=jury,
        poll_thread=poll_thread, closed_poll_thread=closed_poll_thread,
        conversation=conversation, star_code=batch.codes.get().code,
        **{name: Picture.objects.get(pk=picture.pk) for name, picture in (
            ("post_picture", post_picture), ("hidden_picture", hidden_picture),
            ("pending_picture", unplaced_picture), ("message_picture", message_picture),
        )},
    )


# What tests/conftest.py's autouse fixtures set for each test, which a world built before
# them needs as well: fast password hashing, no probation for new members, no limits.
BUILD_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "FORUMS_NEW_MEMBER_POSTS": 0,
    "FORUMS_RATE_LIMITS": {},
    "FORUMS_PAGE_CACHE_SECONDS": 0,
}


@contextmanager
def built_once(django_db_blocker, build, **settings):
    """Yield what `build()` made, inside a transaction rolled back on leaving. For a
    module-scoped fixture (which also asks for `django_db_setup`); `settings` override
    BUILD_SETTINGS while building."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(**{**BUILD_SETTINGS, **settings}):
                built = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def fresh(built):
    """A copy of built objects for one test: the database goes back to the built state
    after each test, and so must the objects a test changed in memory."""
    return copy.deepcopy(built)
