"""Data carrying the XSS payloads in every field a member writes, made through the
services. Shared by tests/security/test_xss_pages.py and tests/browser/test_xss.py."""

import itertools

from django.utils.html import escape

from accounts.services import member_update
from conversations.services import conversation_create
from forums.models import Poll
from forums.polls import PollSpec
from forums.services import post_edit, reply_create, thread_create
from moderation.models import Jury, JurySeat
from moderation.services import alert_create, jury_vote
from tests.factories import MemberFactory

from .xss import load_payloads, page_vectors

# Members cannot send NUL characters: the forms refuse them (and PostgreSQL cannot
# store them). test_xss_corpus.py renders those payloads too.
PAYLOADS = [payload for payload in load_payloads() if "\x00" not in payload]


def clip(text: str, length: int) -> str:
    """What fits a field of `length` characters (most payloads fit whole)."""
    return text[:length]


def payload_members(payloads, **preferences) -> list:
    """A member per payload, with it as display name, hometown, country and slogan (cut
    to each field's length); no emails, since the tests are about pages."""
    return [
        member_update(
            member=MemberFactory(), display_name=clip(payload, 60), hometown=clip(payload, 80),
            country=clip(payload, 80), slogan=clip(payload, 200), email_notifications=False,
            **preferences,
        )
        for payload in payloads
    ]


def payload_threads(*, forum, authors, payloads, lead: str = "") -> list:
    """A thread per payload: it is the title and the opening post (after `lead`)."""
    return [
        thread_create(forum=forum, author=author, title=clip(payload, 150), body=lead + payload)
        for author, payload in zip(authors, payloads)
    ]


def payload_polls(*, forum, authors, payloads) -> list:
    """A thread per payload whose poll asks it and offers it as an option (beside a
    plain one); results shown to everyone, so visitors' pages print every option."""
    return [
        thread_create(
            forum=forum, author=author, title="A poll", body="Vote below.",
            poll=PollSpec(question=clip(payload, 300), options=(clip(payload, 200), "A plain option"),
                          results_shown=Poll.Results.ALWAYS),
        )
        for author, payload in zip(authors, payloads)
    ]


def payload_replies(*, thread, authors, payloads) -> list:
    """A reply per payload, as its subject and body, nested a few levels deep."""
    opening = parent = thread.posts.get(number=0)
    replies = []
    for author, payload in zip(authors, payloads):
        reply = reply_create(author=author, parent=parent, body=payload, subject=clip(payload, 150))
        replies.append(reply)
        parent = reply if reply.depth < 3 else opening
    return replies


def payload_conversations(*, recipient, senders, payloads) -> list:
    """A private conversation per payload, as its subject and first message."""
    return [
        conversation_create(sender=sender, recipient=recipient, subject=clip(payload, 150), body=payload)
        for sender, payload in zip(senders, payloads)
    ]


def payload_juries(*, posts, alerter, jurors, rule, payloads) -> list:
    """Alert each post with a payload as the comment; each jury of three then gets two
    jurors' answers (one each way, so it stays open) whose comments are payloads, until
    every payload has been a juror's comment. Needs FORUMS_JURY_SIZE = 3, with exactly
    three eligible jurors, and FORUMS_JURY_VOTES_TO_HIDE = 2."""
    juries = [
        Jury.objects.get(alert=alert_create(alerter=alerter, post=post, rule=rule, comment=clip(payload, 500)))
        for post, payload in zip(posts, payloads)
    ]
    comments = iter(payloads)
    answers = [JurySeat.Answer.CLEAR_BREAK, JurySeat.Answer.CLEAR_KEEP]
    for jury in juries:
        pair = list(itertools.islice(comments, 2))
        for juror, answer, comment in zip(jurors, answers, pair):
            jury_vote(juror=juror, jury=jury, answer=answer, comment=clip(comment, 500))
    return juries


def escaping_problems(client, path, values, *, data=None, statuses=(200,)) -> list[str]:
    """Through Django's test client: the page must hold nothing executable, and print
    each value a member wrote exactly, HTML-escaped. The problems found, if any."""
    response = client.get(path, data)
    if response.status_code not in statuses:
        return [f"{path}: status {response.status_code}"]
    page = response.content.decode()
    problems = [f"{path}: {problem}" for problem in page_vectors(page)]
    problems += [f"{path}: not printed escaped: {value!r}" for value in values if escape(value) not in page]
    return problems


def payload_edits(*, posts, payloads) -> list:
    """Each post edited to plain words, then to a payload (as its body, and as its
    subject where it has one of its own): its edit history shows the payload deleted in
    one version, inserted in the next. The posts as they are now."""
    edited = []
    for post, payload in zip(posts, payloads):
        subject = None if post.parent_id is None else "Plain subject"
        post = post_edit(editor=post.author, post=post, body="Plain words between.", subject=subject)
        subject = None if post.parent_id is None else clip(payload, 150)
        edited.append(post_edit(editor=post.author, post=post, body=payload, subject=subject))
    return edited
