"""A member's own data as one JSON document ("Download my data" on /settings/).

Read-only: it lives beside services.py rather than in it. Every section is one query
(posts take two, with their revisions), so the count does not grow with the member's
history. Secrets never leave: no password hash, no TOTP seed or recovery codes, no
session keys; of other members only what the member could already see (their public
names on messages in the member's own conversations).
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from conversations.models import Message, Participant
from forums.models import (
    ForumSubscription,
    IgnoredMember,
    Notification,
    Picture,
    PollChoice,
    Post,
    PostRevision,
    Recommendation,
    Thread,
    ThreadSubscription,
    TrashedForum,
    TrashedThread,
)
from forums.pictures import PICTURE_PATH
from moderation.models import Alert, Appeal, JurySeat

from accounts.models import User
from accounts.services import PREFERENCE_FIELDS, PROFILE_FIELDS

FORMAT = "grassroots-member-data"
VERSION = 1


def _when(moment):
    return moment.isoformat() if moment else None


def _absolute(path: str) -> str:
    return settings.FORUMS_SITE_URL.rstrip("/") + path


def _profile(member: User) -> dict:
    return {
        "username": member.username,
        "email": member.email,
        **{name: getattr(member, name) for name in PROFILE_FIELDS},
        "avatar": _absolute(member.avatar.url) if member.avatar else None,
        "date_joined": _when(member.date_joined),
        "last_login": _when(member.last_login),
        "post_count": member.post_count,
        "tier": str(member.tier.label),
        "star_until": _when(member.star_until),
        "is_suspended": member.suspension_active,
        "suspended_until": _when(member.suspended_until) if member.suspension_active else None,
        "suspension_reason": member.suspension_reason if member.suspension_active else "",
    }


def _posts(member: User) -> list[dict]:
    posts = (
        Post.objects.filter(author=member)
        .select_related("thread", "parent")
        .prefetch_related(
            Prefetch("revisions", queryset=PostRevision.objects.order_by("written_at", "id"))
        )
        .order_by("created_at", "id")
    )
    return [
        {
            "id": post.pk,
            "thread_id": post.thread_id,
            "thread_title": post.thread.title,
            "number": post.number,
            "in_reply_to": post.parent.number if post.parent_id else None,
            "subject": post.subject,
            "body": post.body,
            "created_at": _when(post.created_at),
            "edited_at": _when(post.edited_at),
            "is_deleted": post.is_deleted,
            "is_hidden": post.is_hidden,
            "recommendation_count": post.recommendation_count,
            "url": _absolute(
                post.thread.get_absolute_url()
                if post.is_opening_post
                else f"{post.thread.get_absolute_url()}#post-{post.number}"
            ),
            # Earlier versions, oldest first; the current text is "body" above.
            "revisions": [
                {"subject": revision.subject, "body": revision.body,
                 "written_at": _when(revision.written_at)}
                for revision in post.revisions.all()
            ],
        }
        for post in posts
    ]


def _conversations(member: User) -> list[dict]:
    seats = list(
        Participant.objects.filter(member=member)
        .select_related("conversation__started_by")
        .order_by("conversation__created_at", "conversation_id")
    )
    ids = [seat.conversation_id for seat in seats]
    everyone: dict[int, list[str]] = {}
    for participant in (
        Participant.objects.filter(conversation__in=ids)
        .select_related("member")
        .order_by("joined_at", "id")
    ):
        everyone.setdefault(participant.conversation_id, []).append(participant.member.public_name)
    messages: dict[int, list[dict]] = {}
    for message in (
        Message.objects.filter(conversation__in=ids)
        .select_related("author")
        .order_by("conversation_id", "number")
    ):
        messages.setdefault(message.conversation_id, []).append({
            "number": message.number,
            "from": message.author.public_name if message.author_id else None,
            "sent_by_me": message.author_id == member.pk,
            "body": message.body,
            "created_at": _when(message.created_at),
        })
    return [
        {
            "id": seat.conversation_id,
            "subject": seat.conversation.subject,
            "started_by": (
                seat.conversation.started_by.public_name
                if seat.conversation.started_by_id else None
            ),
            "created_at": _when(seat.conversation.created_at),
            "participants": everyone.get(seat.conversation_id, []),
            "messages": messages.get(seat.conversation_id, []),
        }
        for seat in seats
    ]


def _pictures(member: User) -> list[dict]:
    """Every picture the member uploaded, with the address that serves it to them (they
    may see each of their own) and where it is placed."""
    rows = Picture.objects.filter(owner=member).order_by("created_at", "id").values(
        "id", "name", "format", "width", "height", "uploaded_bytes", "created_at", "placed_at",
        "post_id",
    )
    return [
        {"id": row["id"], "file_name": row["name"], "format": row["format"],
         "width": row["width"], "height": row["height"], "uploaded_bytes": row["uploaded_bytes"],
         "uploaded_at": _when(row["created_at"]), "placed_at": _when(row["placed_at"]),
         "post_id": row["post_id"], "url": _absolute(PICTURE_PATH.format(id=row["id"]))}
        for row in rows
    ]


def _thread_marks(model, member: User) -> list[dict]:
    """The threads a member follows or trashed, oldest first."""
    rows = model.objects.filter(member=member).order_by("created_at", "id")
    return [
        {"thread_id": row["thread_id"], "title": row["thread__title"], "since": _when(row["created_at"])}
        for row in rows.values("thread_id", "thread__title", "created_at")
    ]


def _forum_marks(model, member: User) -> list[dict]:
    """The forums a member follows or trashed, oldest first."""
    rows = model.objects.filter(member=member).order_by("created_at", "id")
    return [{"forum": row["forum__name"], "since": _when(row["created_at"])} for row in rows.values("forum__name", "created_at")]


def _poll_votes(member: User) -> list[dict]:
    """The member's votes in polls, oldest first, each with the options it chose."""
    votes: dict[int, dict] = {}
    rows = (
        PollChoice.objects.filter(vote__member=member)
        .order_by("vote__cast_at", "vote_id", "option__position")
        .values_list("vote_id", "vote__poll_id", "vote__poll__question", "option__text", "vote__cast_at")
    )
    for vote_id, thread_id, question, option, cast_at in rows:
        votes.setdefault(vote_id, {
            "thread_id": thread_id, "question": question, "options": [], "cast_at": _when(cast_at),
        })["options"].append(option)
    return list(votes.values())


def member_data_export(*, member: User) -> dict:
    """Everything the site keeps about `member` that is theirs to take away. The caller
    passes the logged-in member; nobody exports someone else's data."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _when(timezone.now()),
        "site": settings.FORUMS_SITE_URL,
        "profile": _profile(member),
        "preferences": {name: getattr(member, name) for name in PREFERENCE_FIELDS},
        "email_addresses": list(
            EmailAddress.objects.filter(user=member)
            .order_by("-primary", "email")
            .values("email", "verified", "primary")
        ),
        # Which kinds of second factor are set up; never their secrets.
        "two_factor": sorted(
            set(Authenticator.objects.filter(user=member).values_list("type", flat=True))
        ),
        "jury_blacklist": sorted(member.jury_blacklist.values_list("username", flat=True)),
        "threads": [
            {"id": row["id"], "title": row["title"], "forum": row["forum__name"],
             "created_at": _when(row["created_at"]), "reply_count": row["reply_count"],
             "poll_question": row["poll__question"]}
            for row in Thread.objects.filter(author=member)
            .order_by("created_at", "id")
            .values("id", "title", "forum__name", "created_at", "reply_count", "poll__question")
        ],
        "posts": _posts(member),
        "pictures": _pictures(member),
        "conversations": _conversations(member),
        "poll_votes": _poll_votes(member),
        "recommendations": [
            {"post_id": row["post_id"], "thread_title": row["thread__title"],
             "post_number": row["post__number"], "created_at": _when(row["created_at"])}
            for row in Recommendation.objects.filter(member=member)
            .order_by("created_at", "id")
            .values("post_id", "thread__title", "post__number", "created_at")
        ],
        "alerts": [
            {"post_id": row["post_id"], "rule": row["rule__name"], "comment": row["comment"],
             "status": row["status"], "created_at": _when(row["created_at"])}
            for row in Alert.objects.filter(alerter=member)
            .order_by("created_at", "id")
            .values("post_id", "rule__name", "comment", "status", "created_at")
        ],
        # Only the member's own seat on each jury: other jurors' answers are theirs.
        "jury_votes": [
            {"jury_id": row["jury_id"], "post_id": row["jury__post_id"],
             "rule": row["jury__alert__rule__name"], "answer": row["answer"],
             "comment": row["comment"], "seated_at": _when(row["seated_at"]),
             "answered_at": _when(row["answered_at"]), "verdict": row["jury__verdict"]}
            for row in JurySeat.objects.filter(juror=member)
            .order_by("seated_at", "id")
            .values("jury_id", "jury__post_id", "jury__alert__rule__name", "answer",
                    "comment", "seated_at", "answered_at", "jury__verdict")
        ],
        "appeals": [
            {"jury_id": row["jury_id"], "text": row["text"], "decision": row["decision"],
             "created_at": _when(row["created_at"]), "decided_at": _when(row["decided_at"])}
            for row in Appeal.objects.filter(jury__post__author=member)
            .order_by("created_at", "id")
            .values("jury_id", "text", "decision", "created_at", "decided_at")
        ],
        "thread_subscriptions": _thread_marks(ThreadSubscription, member),
        "forum_subscriptions": _forum_marks(ForumSubscription, member),
        "ignored_members": [
            {"username": row["ignored__username"], "since": _when(row["created_at"])}
            for row in IgnoredMember.objects.filter(member=member)
            .order_by("created_at", "id")
            .values("ignored__username", "created_at")
        ],
        "trashed_threads": _thread_marks(TrashedThread, member),
        "trashed_forums": _forum_marks(TrashedForum, member),
        "notifications": [
            {"kind": row["kind"], "post_id": row["post_id"],
             "created_at": _when(row["created_at"]), "read_at": _when(row["read_at"])}
            for row in Notification.objects.filter(recipient=member)
            .order_by("created_at", "id")
            .values("kind", "post_id", "created_at", "read_at")
        ],
    }
