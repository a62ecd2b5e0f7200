"""A seeded site with one of everything a page can show, and the list of pages to visit.

The look-and-feel tests (test_look_and_feel.py) walk these pages as a visitor and as a
member, so every kind of page is checked with real content: long words and URLs, code,
quotes, a deep reply tree, Star, host and staff authors, a hidden post, a locked and a
pinned thread, notifications, a conversation, a seated jury and an edited post.
"""

import random
from dataclasses import dataclass, field

from django.core.management import call_command
from django.urls import reverse

from accounts.models import Sponsor, User
from accounts.services import member_update, star_grant
from conversations.services import conversation_create, message_create
from forums.models import Forum, Poll, PollOption
from forums.polls import PollSpec, poll_vote
from forums.services import post_edit, recommendation_set, reply_create, thread_create
from moderation.models import AlertRule, Jury
from moderation.services import alert_create, host_add, member_block, post_hide, thread_lock, thread_pin
from tests.factories import MemberFactory

LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4
LONG_URL = "https://example.org/" + "/".join(f"a-very-long-path-segment-{n}" for n in range(12))
OPENING_BODY = f"""\
Members keep asking how the site looks on a phone, so here is a post with everything
that tends to break a layout.

A word without spaces: {LONG_WORD}

A bare address: <{LONG_URL}>

```
def a_code_block_with_a_line_far_longer_than_any_phone_is_wide(argument_one, argument_two, argument_three):
    return argument_one + argument_two + argument_three
```

> A quotation from an article, shortened to stay within the four-paragraph limit.

| Column | Another column | A third column with a long heading |
| --- | --- | --- |
| 1 | 2 | 3 |
"""


@dataclass
class Page:
    name: str
    path: str
    # For pages that need a click or two first: fill a form, show a preview or errors.
    action: str = ""


@dataclass
class Tour:
    viewer: User
    forum: Forum
    visitor_pages: list[Page] = field(default_factory=list)
    member_pages: list[Page] = field(default_factory=list)
    # Pages only someone else may see: a juror's seat, the alerter's jury result.
    others_pages: list[tuple[User, Page]] = field(default_factory=list)


def _member(username, display_name, **kwargs):
    return MemberFactory(username=username, display_name=display_name, **kwargs)


def build_tour() -> Tour:
    """Seed the site and add a thread and people around it; return the pages to visit."""
    call_command("load_seeds", verbosity=0)
    forum = Forum.objects.get(slug="foreign-affairs")
    other_forum = Forum.objects.get(slug="economy")

    viewer = _member("rosa", "Rosa Delgado-Whitcombe")
    star = star_grant(member=_member("ben", "Ben Okafor"), months=12)
    staff = User.objects.create_user(
        "moira", email="moira@example.org", password="correct horse battery staple",
        display_name="Moira (staff)", is_staff=True,
    )
    others = [_member(f"reader{n}", f"Reader {n}") for n in range(4)]
    # Jurors come from members outside the thread.
    for n in range(10):
        _member(f"juror{n}", f"Juror {n}")
    host_add(moderator=staff, forum=forum, member=viewer)
    Sponsor.objects.create(text="Union-made coffee, roasted in Ohio", link="https://example.org/coffee")

    thread = thread_create(
        forum=forum, author=viewer, body=OPENING_BODY,
        title="How the forum looks on a phone: long words, links, code and a deep reply tree",
    )
    opening = thread.posts.get(number=0)
    # An edit, so that the edit history shows words inserted and deleted.
    opening = post_edit(editor=viewer, post=opening, body=OPENING_BODY.replace(
        "Members keep asking how the site looks on a phone", "Members often ask how the forum looks on a small phone"
    ))
    parent = opening
    authors = [star, staff, others[0], others[1], star, others[2], others[3], star, others[0], staff]
    replies = []
    for depth, author in enumerate(authors, start=1):
        parent = reply_create(
            author=author, parent=parent,
            body=f"Answering one level deeper ({depth}). {LONG_WORD[:60]} and <{LONG_URL}>",
            subject=f"Level {depth}: an answer to the post above" if depth % 3 else "",
        )
        replies.append(parent)
    mine = reply_create(author=viewer, parent=opening, body="I wrote this reply, so I may edit it.",
                        subject="My own reply")
    hidden = reply_create(author=others[2], parent=opening, body="Something the staff had to hide.")
    post_hide(staff=staff, post=hidden, hide=True, reason="Personal attack")
    for member in (star, staff, *others):
        recommendation_set(member=member, post=opening, recommend=True)

    locked = thread_create(forum=forum, author=star, title="A locked thread with a pinned neighbour",
                           body="Nothing more to say here.")
    thread_lock(moderator=staff, thread=locked, lock=True, reason="Answered")
    pinned = thread_create(forum=forum, author=staff, title="Read this first: how this forum works",
                           body="The rules, in brief.")
    thread_pin(moderator=staff, thread=pinned, pin=True)
    member_block(moderator=staff, forum=forum, member=others[3], block=True, reason="Spam links")
    thread_create(forum=other_forum, author=star, title="Prices at the farmers market",
                  body="Tomatoes cost twice what they did.")
    # A poll whose results everyone sees: bars and counts for visitors, the form for
    # the viewer (who has not voted) and its "Close poll" button (they host the forum).
    poll_thread = thread_create(
        forum=forum, author=star, title="A poll: what should the next meetup discuss?", body="Tick two.",
        poll=PollSpec(question="Topics for the next meetup", max_choices=2, results_shown=Poll.Results.ALWAYS,
                      options=("Housing", "Transit and the new bus lines", "Schools", "Parks")),
    )
    poll_options = list(PollOption.objects.filter(poll=poll_thread.pk).order_by("position"))
    for n, member in enumerate([staff, *others[:3]]):
        poll_vote(member=member, thread=poll_thread, options=poll_options[n % 3:n % 3 + 2])

    conversation = conversation_create(
        sender=star, recipient=viewer, subject="About the meetup on Saturday",
        body="Shall we meet at the library? Bring the flyers.",
    )
    message_create(author=viewer, conversation=conversation, body="Yes, at ten. I will bring them.")
    message_create(author=star, conversation=conversation, body=f"Great. The map: <{LONG_URL}>")

    rule = AlertRule.objects.order_by("position").first()
    alert = alert_create(alerter=others[0], post=replies[5], rule=rule,
                         comment="This goes after the person, not the argument.", rng=random.Random(1))
    jury = Jury.objects.get(alert=alert)
    juror = jury.seats.select_related("juror").first().juror

    # member_update saves the whole row: start from the current one (counters moved on).
    viewer.refresh_from_db()
    member_update(member=viewer, hometown="Dayton", country="United States",
                  slogan="Regular people, not algorithms.")

    thread_url = thread.get_absolute_url()
    all_url = thread.get_view_all_url()
    visitor_pages = [
        Page("home", reverse("forums:home")),
        Page("all-forums", reverse("forums:forum-index")),
        Page("section", forum.section.get_absolute_url()),
        Page("forum", forum.get_absolute_url()),
        Page("forum-about", reverse("forums:forum-about", args=[forum.slug])),
        Page("thread", thread_url),
        Page("thread-all", all_url),
        Page("thread-all-highlight", f"{all_url}?highlight=newest"),
        Page("poll", poll_thread.get_absolute_url()),
        Page("search", reverse("forums:search") + "?q=phone"),
        Page("latest", reverse("forums:latest")),
        Page("greatest", reverse("forums:greatest")),
        Page("profile", star.get_absolute_url()),
        Page("star", reverse("accounts:star")),
        Page("moderation-log", reverse("moderation:log")),
        Page("login", reverse("account_login")),
        Page("signup", reverse("account_signup")),
        Page("password-reset", reverse("account_reset_password")),
        Page("not-found", "/f/no-such-forum/"),
    ]
    member_pages = [page for page in visitor_pages if page.name not in {"login", "signup"}] + [
        Page("reply-form-errors", reverse("forums:reply-create", args=[thread.pk, replies[0].number]),
             action="reply-errors"),
        Page("new-thread-preview", reverse("forums:thread-create", args=[forum.slug]), action="preview"),
        Page("edit-form", reverse("forums:post-edit", args=[thread.pk, mine.number])),
        Page("edit-history", reverse("forums:post-history", args=[thread.pk, 0])),
        Page("delete-confirm", reverse("forums:post-delete", args=[thread.pk, mine.number])),
        Page("alert-form", reverse("moderation:alert-create", args=[thread.pk, replies[0].number])),
        Page("poll-vote", reverse("forums:poll-vote", args=[poll_thread.pk])),
        Page("own-profile", viewer.get_absolute_url()),
        Page("settings", reverse("members:settings")),
        Page("notifications", reverse("forums:notification-list")),
        Page("my-posts", reverse("forums:my-posts")),
        Page("my-subscriptions", reverse("forums:my-subscriptions")),
        Page("messages", reverse("conversations:inbox")),
        Page("messages-sent", reverse("conversations:sent")),
        Page("conversation", conversation.get_absolute_url()),
        Page("new-message", reverse("conversations:conversation-create") + f"?to={star.username}"),
        Page("forum-hosting", reverse("moderation:forum-hosting", args=[forum.slug])),
        Page("email", reverse("account_email")),
        Page("password-change", reverse("account_change_password")),
    ]
    others_pages = [
        (juror, Page("jury", reverse("moderation:jury-detail", args=[jury.pk]))),
        (others[0], Page("jury-result", reverse("moderation:jury-result", args=[jury.pk]))),
    ]
    return Tour(viewer=viewer, forum=forum, visitor_pages=visitor_pages,
                member_pages=member_pages, others_pages=others_pages)
