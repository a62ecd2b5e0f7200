"""Read tracking: what is new for a member, from two timestamps and a reply count.

A member's state is a timestamp per (member, forum) from "Mark forum read", one on
the member for "Mark all forums read", and per (member, thread) the last visit with
the reply count seen then. Anything older than FORUMS_READ_CUTOFF_DAYS counts as
read. No row is ever written per post, and no UPDATE fans out to readers.
"""

import operator
from datetime import timedelta
from functools import reduce

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Value
from django.utils import timezone

from accounts.standing import can_moderate
from config import page_cache

from .models import (
    Forum,
    ForumRead,
    IgnoredMember,
    Post,
    Recommendation,
    ThreadSubscription,
    ThreadVisit,
    TrashedThread,
)


def _cutoff():
    return timezone.now() - timedelta(days=settings.FORUMS_READ_CUTOFF_DAYS)


def forum_read_marks(member, forum_ids) -> dict[int, object]:
    """For each forum, the moment before which everything counts as read."""
    floor = max(filter(None, [member.all_read_at, _cutoff()]))
    marks = dict.fromkeys(forum_ids, floor)
    for forum_id, marked_at in ForumRead.objects.filter(
        member=member, forum_id__in=forum_ids
    ).values_list("forum_id", "marked_at"):
        marks[forum_id] = max(floor, marked_at)
    return marks


def mark_new_replies(member, threads) -> None:
    """Set `thread.new_reply_count` and `thread.is_new` on a page of threads for a member
    (three queries at most, whatever the page size)."""
    threads = list(threads)
    if not threads:
        return
    marks = forum_read_marks(member, {thread.forum_id for thread in threads})
    visits = {
        visit.thread_id: visit
        for visit in ThreadVisit.objects.filter(member=member, thread__in=threads)
    }
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
        by_forum: dict = {}
        for thread in count_since_mark:
            by_forum.setdefault(marks[thread.forum_id], []).append(thread.pk)
        since_marks = reduce(
            operator.or_,
            (Q(thread__in=ids, created_at__gt=mark) for mark, ids in by_forum.items()),
        )
        counts = dict(
            Post.objects.filter(since_marks, parent__isnull=False)
            .values_list("thread_id")
            .annotate(new=Count("id"))
        )
        for thread in count_since_mark:
            thread.new_reply_count = counts.get(thread.pk, 0)


def member_thread_state(member, thread, post_ids) -> dict:
    """A member's view of one thread page: since when replies are new, whom they
    ignore, which of the page's posts they recommended, whether they follow or trashed
    the thread and whether they host its forum. Two queries, whatever the page: one
    row of flags about the member, and one list of ignored members and recommendations."""
    about_member = {"member": OuterRef("pk")}
    flags = (
        get_user_model()
        .objects.filter(pk=member.pk)
        .values_list(
            Subquery(
                ForumRead.objects.filter(**about_member, forum_id=thread.forum_id).values("marked_at")[:1]
            ),
            Subquery(
                ThreadVisit.objects.filter(**about_member, thread=thread).values("visited_at")[:1]
            ),
            Exists(ThreadSubscription.objects.filter(**about_member, thread=thread)),
            Exists(TrashedThread.objects.filter(**about_member, thread=thread)),
            Exists(
                Forum.hosts.through.objects.filter(user=OuterRef("pk"), forum_id=thread.forum_id)
            ),
        )
    )
    forum_marked_at, visited_at, following, trashed, hosts_forum = flags.get()
    mark = max(filter(None, [member.all_read_at, _cutoff(), forum_marked_at]))
    ignored_ids, my_recommendations = set(), set()
    lists = {IGNORED: ignored_ids, RECOMMENDED: my_recommendations}
    for kind, pk in (
        IgnoredMember.objects.filter(member=member)
        .values_list(Value(IGNORED), "ignored_id")
        .union(
            Recommendation.objects.filter(member=member, post_id__in=post_ids).values_list(
                Value(RECOMMENDED), "post_id"
            ),
            all=True,
        )
    ):
        lists[kind].add(pk)
    return {
        "new_after": max(mark, visited_at) if visited_at else mark,
        "ignored_ids": ignored_ids,
        "my_recommendations": my_recommendations,
        "following": following,
        "trashed": trashed,
        "hosts_forum": hosts_forum,
    }


IGNORED, RECOMMENDED = "ignored", "recommended"


def mark_new_posts(member, posts, new_after) -> bool:
    """Set `post.is_new` on a page's replies: posted after `new_after` (from
    member_thread_state; None for visitors) by someone else, since a member's own reply
    is no news to them. Returns whether any is new, for the marker's legend."""
    any_new = False
    for post in posts:
        post.is_new = bool(
            new_after and not post.is_opening_post and post.created_at > new_after
            and post.author_id != member.pk
        )
        any_new = any_new or post.is_new
    return any_new


def thread_page(member, thread, posts) -> dict:
    """What every thread page shows beside the posts: the opening post, its
    recommenders, the forum's hosts (for their badge) and, for a member, their own
    state and whether they may use the host tools. A constant number of queries."""
    opening_post = Post.objects.select_related("author").get(thread=thread, number=0)
    # Post headers show their authors' avatars, badges and post counts.
    page_cache.shows(*{page_cache.member(post.author_id) for post in (opening_post, *posts)})
    context = {
        "thread": thread,
        "opening_post": opening_post,
        "recommenders": opening_post.recommendations.order_by("created_at", "id").select_related("member"),
        "host_ids": set(
            Forum.hosts.through.objects.filter(forum_id=thread.forum_id).values_list("user_id", flat=True)
        ),
        "following": False,
        "new_after": None,
        "ignored_ids": set(),
        "my_recommendations": set(),
        "trashed": False,
        "moderator": False,
    }
    if member.is_authenticated:
        post_ids = [opening_post.pk, *(post.pk for post in posts)]
        state = member_thread_state(member, thread, post_ids)
        context.update(state, moderator=can_moderate(member, hosts_forum=state["hosts_forum"]))
    return context
