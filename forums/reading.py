"""Read tracking: what is new for a member, from two timestamps and a reply count.

A member's state is a timestamp per (member, forum) from "Mark forum read", one on
the member for "Mark all forums read", and per (member, thread) the last visit with
the reply count seen then. Anything older than FORUMS_READ_CUTOFF_DAYS counts as
read. No row is ever written per post, and no UPDATE fans out to readers.
"""

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.standing import can_moderate
from config import page_cache, prepared

from .models import (
    ForumRead,
    ForumSubscription,
    IgnoredMember,
    Post,
    Recommendation,
    ThreadSubscription,
    ThreadVisit,
    TrashedThread,
)
from .querysets import recommender_rows


def _cutoff():
    return timezone.now() - timedelta(days=settings.FORUMS_READ_CUTOFF_DAYS)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _moment(value):
    """A timestamp as the ORM would give it: SQLite hands back the stored UTC time,
    naive or as text."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


class _Visit(NamedTuple):
    visited_at: datetime
    seen_reply_count: int


def _read_state(member, forum_ids, thread_ids, followed_forum_id=None) -> tuple[dict, dict, bool]:
    """For each forum, the moment before which everything counts as read; the member's
    last visit of each thread that has one; and whether they follow the forum
    `followed_forum_id` (False when not asked). One query, written in SQL for the
    reason member_thread_state gives."""
    floor = max(filter(None, [member.all_read_at, _cutoff()]))
    marks = dict.fromkeys(forum_ids, floor)
    forums, threads = list(forum_ids), list(thread_ids)
    parts, params = [], []
    if threads:
        parts += [
            # The first part names the columns' types, for PostgreSQL.
            f"SELECT 'forum', forum_id, marked_at, CAST(NULL AS INTEGER) FROM {_table(ForumRead)} "
            f"WHERE member_id = %s AND forum_id IN ({', '.join(['%s'] * len(forums))})",
            f"SELECT 'visit', thread_id, visited_at, seen_reply_count FROM {_table(ThreadVisit)} "
            f"WHERE member_id = %s AND thread_id IN ({', '.join(['%s'] * len(threads))})",
        ]
        params += [member.pk, *forums, member.pk, *threads]
    if followed_forum_id is not None:
        parts.append(
            f"SELECT 'follow', forum_id, NULL, NULL FROM {_table(ForumSubscription)} "
            "WHERE member_id = %s AND forum_id = %s"
        )
        params += [member.pk, followed_forum_id]
    visits, follows = {}, False
    with prepared.planned_once(), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for kind, pk, moment, seen in cursor.fetchall():
            if kind == "forum":
                marks[pk] = max(floor, _moment(moment))
            elif kind == "visit":
                visits[pk] = _Visit(_moment(moment), seen)
            else:
                follows = True
    return marks, visits, follows


def mark_new_replies(member, threads, *, followed_forum_id=None) -> bool:
    """Set `thread.new_reply_count` and `thread.is_new` on a page of threads for a member
    (two queries at most, whatever the page size). Returns whether the member follows
    the forum `followed_forum_id`, asked in the same query (a forum's page shows its
    Follow button); False when not asked."""
    threads = list(threads)
    if not threads and followed_forum_id is None:
        return False
    marks, visits, follows = _read_state(
        member, {thread.forum_id for thread in threads}, [thread.pk for thread in threads], followed_forum_id
    )
    count_since_mark = []
    for thread in threads:
        mark, visit = marks[thread.forum_id], visits.get(thread.pk)
        thread.is_new = visit is None and thread.created_at > mark
        thread.new_reply_count = 0
        if thread.last_activity_at <= max(mark, visit.visited_at if visit else mark):
            continue
        if visit and visit.visited_at >= mark:
            thread.new_reply_count = max(thread.reply_count - visit.seen_reply_count, 0)
        elif thread.is_new:
            thread.new_reply_count = thread.reply_count
        else:
            count_since_mark.append(thread)
    if count_since_mark:
        # One grouped count for the threads whose forum was marked read after the
        # member's last visit: their new replies are those posted after the mark.
        by_mark: dict = {}
        for thread in count_since_mark:
            by_mark.setdefault(marks[thread.forum_id], []).append(thread.pk)
        counts = _replies_since(by_mark)
        for thread in count_since_mark:
            thread.new_reply_count = counts.get(thread.pk, 0)
    return follows


def _replies_since(by_mark: dict[datetime, list[int]]) -> dict[int, int]:
    """How many replies each thread has had since a moment (thread ids by moment). One
    grouped count, written in SQL for the reason member_thread_state gives: built
    through the ORM, its filters took ten times what the database took to answer."""
    moments = " OR ".join(
        f"(thread_id IN ({', '.join(['%s'] * len(ids))}) AND created_at > %s)" for ids in by_mark.values()
    )
    params = []
    for moment, ids in by_mark.items():
        params += [*ids, connection.ops.adapt_datetimefield_value(moment)]
    sql = (
        f"SELECT thread_id, COUNT(*) FROM {_table(Post)} "
        f"WHERE parent_id IS NOT NULL AND ({moments}) GROUP BY thread_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def member_thread_state(member, thread, post_ids) -> dict:
    """A member's view of one thread page: since when replies are new (and how many
    replies their last visit saw), whom they ignore, which of the page's posts they
    recommended, and whether they follow or trashed the thread. One query, whatever the
    page. (The forum's hosts come with the thread: querysets.thread_for_page.)

    Written in SQL: built through the ORM, its parts cost some 2 ms of Python on
    every thread page, ten times what the database takes to answer."""
    member_id, ids = member.pk, list(post_ids)
    parts = [
        # The first part names the columns' types, for PostgreSQL.
        f"SELECT 'mark', CAST(NULL AS BIGINT), marked_at FROM {_table(ForumRead)} "
        "WHERE member_id = %s AND forum_id = %s",
        (f"SELECT 'visit', seen_reply_count, visited_at FROM {_table(ThreadVisit)} "
         "WHERE member_id = %s AND thread_id = %s"),
        f"SELECT 'follow', NULL, NULL FROM {_table(ThreadSubscription)} WHERE member_id = %s AND thread_id = %s",
        f"SELECT 'trash', NULL, NULL FROM {_table(TrashedThread)} WHERE member_id = %s AND thread_id = %s",
        f"SELECT 'ignore', ignored_id, NULL FROM {_table(IgnoredMember)} WHERE member_id = %s",
    ]
    params = [member_id, thread.forum_id, member_id, thread.pk, member_id, thread.pk, member_id, thread.pk, member_id]
    if ids:
        parts.append(
            f"SELECT 'recommend', post_id, NULL FROM {_table(Recommendation)} "
            f"WHERE member_id = %s AND post_id IN ({', '.join(['%s'] * len(ids))})"
        )
        params += [member_id, *ids]
    with prepared.planned_once(), connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    found = {"ignore": set(), "recommend": set()}
    moments, seen_reply_count = {}, None
    for kind, pk, moment in rows:
        if kind in found:
            found[kind].add(pk)
        else:
            moments[kind] = _moment(moment)
            if kind == "visit":
                seen_reply_count = pk
    mark = max(filter(None, [member.all_read_at, _cutoff(), moments.get("mark")]))
    visited_at = moments.get("visit")
    return {
        "new_after": max(mark, visited_at) if visited_at else mark,
        # How many replies the member's last visit saw (None before their first).
        "seen_reply_count": seen_reply_count,
        "ignored_ids": found["ignore"],
        "my_recommendations": found["recommend"],
        "following": "follow" in moments,
        "trashed": "trash" in moments,
    }


def new_reply_rule(member, new_after):
    """The test of whether a reply is new to `member` (marked ★): posted after
    `new_after` (from member_thread_state; None for visitors) by someone else, since a
    member's own reply is no news to them. Callers ask it of replies only; the
    opening post is never marked."""
    if not new_after:
        return lambda post: False
    member_id = getattr(member, "pk", None)
    return lambda post: post.created_at > new_after and post.author_id != member_id


def thread_page(member, thread, posts) -> dict:
    """What every thread page shows beside the posts: the opening post, its
    recommenders, the forum's hosts (for their badge) and, for a member, their own
    state and whether they may use the host tools. A constant number of queries."""
    # Loaded with the thread (querysets.thread_for_page), as are the hosts.
    opening_post, host_ids = thread.opening_post_row, thread.forum_host_ids
    if opening_post is None:
        raise Post.DoesNotExist("The thread has no opening post.")
    # Post headers show their authors' avatars, badges and post counts.
    page_cache.shows(*{page_cache.member(post.author_id) for post in (opening_post, *posts)})
    context = {
        "thread": thread,
        "opening_post": opening_post,
        # The post's own count says whether there is anyone to list: most opening
        # posts have no recommendation, and their pages need no query for them.
        "recommenders": recommender_rows(opening_post.pk) if opening_post.recommendation_count else (),
        "following": False,
        "new_after": None,
        "seen_reply_count": None,
        "ignored_ids": set(),
        "my_recommendations": set(),
        "trashed": False,
        "host_ids": host_ids,
        "moderator": False,
    }
    if member.is_authenticated:
        post_ids = [opening_post.pk, *(post.pk for post in posts)]
        context.update(
            member_thread_state(member, thread, post_ids),
            moderator=can_moderate(member, hosts_forum=member.pk in host_ids),
        )
    return context
