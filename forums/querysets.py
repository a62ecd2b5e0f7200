"""Reusable reads. Each page gets one `for_<page>()` that loads what its template uses."""

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast, Coalesce
from django.db.models.utils import create_namedtuple_class
from django.utils import timezone

from config import page_cache, prepared


# What a link to a member needs of their row (a User row has some forty columns).
LINKED_MEMBER_FIELDS = ("username", "display_name", "deleted_at")
# What a thread row shows (forums.fragments.ThreadRow): the thread but its lock notice,
# its forum, and its author and last poster as far as a link and an avatar need.
THREAD_ROW_COLUMNS = (
    "pk", "forum_id", "title", "slug", "author_id", "created_at", "is_pinned", "is_locked", "reply_count",
    "recommendation_count", "view_count", "last_activity_at", "last_poster_id",
    "author__username", "author__display_name", "author__deleted_at", "author__avatar",
    "last_poster__username", "last_poster__display_name", "last_poster__deleted_at",
    "forum__slug", "forum__name",
)


def count_of(queryset) -> models.Subquery:
    """A subquery counting the rows of `queryset` (correlated through OuterRef) with a
    plain COUNT, for which Django adds no GROUP BY: 0, not NULL, when none match."""
    return models.Subquery(queryset.order_by().annotate(n=models.Func("pk", function="COUNT")).values("n"))


class SectionQuerySet(models.QuerySet):
    def for_navigation(self):
        return self.only("name", "slug", "position")


# What a forum row shows (ForumQuerySet.for_listing); kept rows are keyed by it too, so
# that rows of another release's columns are never read back (forums.views).
FORUM_LISTING_COLUMNS = (
    "pk", "name", "slug", "purpose", "section_id", "thread_count", "post_count", "last_post_at",
    "last_post_id", "last_post__number", "last_post__parent_id", "last_post__thread_id",
    "last_post__thread__title", "last_post__thread__slug", "last_post__author_id",
    "last_post__author__username", "last_post__author__display_name", "last_post__author__deleted_at",
)
SECTION_LISTING_COLUMNS = ("pk", "name", "slug")

# What a thread page shows of a post and of its author (forums.fragments.PostFacts): a
# User row has some forty columns, a post's header needs eight of them.
POST_PAGE_FIELDS = (
    "pk", "thread_id", "author_id", "parent_id", "number", "depth", "subject", "body_html", "created_at",
    "recommendation_count", "edited_at", "edit_count", "is_deleted", "is_hidden",
    "author__username", "author__display_name", "author__deleted_at", "author__avatar",
    "author__post_count", "author__star_until", "author__is_staff", "author__is_active",
)


class ForumQuerySet(models.QuerySet):
    def for_reader(self, user):
        if not user.is_authenticated:
            return self
        return self.kept_by(user.pk)

    def kept_by(self, member_id):
        """Without the forums this member trashed."""
        from .models import TrashedForum

        return self.exclude(pk__in=TrashedForum.objects.filter(member_id=member_id).values("forum_id"))

    def with_listed_count(self, member_id):
        """With `listed_count`: how many threads the forum's list holds for this member
        (ThreadQuerySet.wanted_by), none in a forum they trashed. Exact, as the forum's
        thread_count is, so their list's page count is right and its pages past the
        middle are found from the end (page_of)."""
        from .models import Thread, TrashedForum

        trashed = TrashedForum.objects.filter(member_id=member_id, forum=models.OuterRef("pk"))
        in_forum = Thread.objects.filter(forum=models.OuterRef("pk"))
        kept = models.F("thread_count")
        for unwanted in ThreadQuerySet.unwanted_counts(in_forum, member_id):
            kept = kept - unwanted
        return self.annotate(
            listed_count=models.Case(models.When(models.Exists(trashed), then=models.Value(0)), default=kept)
        )

    def main(self):
        return self.filter(kind="main")

    def featured(self):
        return self.filter(is_featured=True)

    def with_about_counts(self):
        """Followers and trashers, for "About this forum" (recent_post_count gives its
        posts of the last 30 days). Each a subquery: joined and counted DISTINCT, they
        multiplied each other's rows and needed a GROUP BY of every column."""
        from .models import ForumSubscription, TrashedForum

        forum = models.OuterRef("pk")
        return self.annotate(
            subscriber_count=count_of(ForumSubscription.objects.filter(forum=forum)),
            trasher_count=count_of(TrashedForum.objects.filter(forum=forum)),
        )


    def for_navigation(self):
        return self.featured().only("name", "slug", "position")

    def for_listing(self):
        """Rows of what a forum row shows (forums.fragments.forum_rows): counts, and the
        last post with its thread and author. Rows, not instances: All Forums lists a
        hundred forums, and five model instances for each took four times the query."""
        return self.values_list(*FORUM_LISTING_COLUMNS, named=True)


# The lists every page of the front page and All Forums shows, by queries whose SQL is
# made once per process (config.prepared): the same rows as for_reader(user) and
# for_listing() or rows() give, without building the query again for every member.


def listed_forums(user, *, featured=False) -> list:
    """Every forum the reader did not trash (with `featured`, the featured ones only),
    as rows of ForumQuerySet.for_listing: every forum for a visitor or None (the rows
    every reader sees, as forums.views keeps them)."""
    from .models import Forum

    forums = Forum.objects.featured() if featured else Forum.objects.all()
    if user is None or not user.is_authenticated:
        return prepared.rows(("forums:listing", featured), lambda: forums.for_listing(), plan_once=True)
    return prepared.rows(
        ("forums:listing:kept", featured), lambda member_id: forums.kept_by(member_id).for_listing(), user.pk,
        plan_once=True,
    )


def trashed_forum_ids(member_id: int) -> set[int]:
    """The forums this member trashed (ForumQuerySet.kept_by leaves them out)."""
    from .models import TrashedForum

    return set(prepared.rows(
        "forums:trashed", lambda member_id: TrashedForum.objects.filter(member_id=member_id).values_list(
            "forum_id", flat=True
        ), member_id, plan_once=True,
    ))


def latest_thread_rows(user, bottom: int, top: int, *, count: int | None = None) -> list:
    """Threads `bottom` to `top` of the newest the reader wants (for_latest), as rows of
    ThreadQuerySet.rows. `count`, when given, is how many there are (latest_thread_count,
    which is exact): pages past the middle are found from the end (page_of)."""
    from .models import Thread

    if not user.is_authenticated:
        return prepared_page(
            "threads:latest", lambda: Thread.objects.newest(), ThreadQuerySet.rows, bottom, top, plan_once=True,
            count=count,
        )
    return prepared_page(
        "threads:latest:wanted", lambda member_id: Thread.objects.wanted_by(member_id).newest(), ThreadQuerySet.rows,
        bottom, top, user.pk, plan_once=True, count=count,
    )


# A list's rows past this many are found in two steps (page_of); above it, one query
# with its joins is cheaper.
DEEP_OFFSET = 300


def page_of(listed, rows, bottom: int, top: int, *, reorder=None, count: int | None = None):
    """Rows `bottom` to `top` of `listed` (a queryset that filters and orders, without
    joins), as `rows(queryset)` makes them (what a page shows: columns and joins).

    A deep page (page 500 of a forum, the last page of a 30,000-reply thread) takes its
    rows' ids from a subquery of `listed` alone, so that skipping rows reads an index
    alone, and joins only its own rows, found by id alone: with the joins in the query
    that skips, the database reads and joins every skipped row (100 ms on page 623 of a
    thread), and with the list's filters beside the ids, SQLite walked the whole
    thread's index instead of the ids. One statement, where Django would need two (the
    ids, then the rows). Those rows are put in order again by `reorder(queryset)`, by
    default by `listed`'s own order_by() fields.

    Given `count`, the exact number of rows `listed` holds, a deep page nearer the end
    than the start skips from the end, in `listed`'s reverse order: the last page of a
    31,000-reply thread then reads its 23 rows' index entries, not all 31,000 (10 ms on
    PostgreSQL). A count that is not exact would show the wrong rows, so lists whose
    count is an estimate leave it out.
    """
    if bottom < DEEP_OFFSET:
        return rows(listed)[bottom:top]
    first, stop, from_end = window(bottom, top, count)
    skipping = listed.reverse() if from_end else listed
    found = listed.model._default_manager.filter(pk__in=skipping.values("pk")[first:stop])
    return rows(reorder(found) if reorder else found.order_by(*listed.query.order_by))


def window(bottom: int, top: int, count: int | None) -> tuple[int, int, bool]:
    """Where page_of() finds rows `bottom` to `top` of a list of `count` rows: the slice
    of the list (`first`, `stop`) and whether it is counted from the end."""
    if count is not None and bottom >= DEEP_OFFSET and bottom < top <= count and count - top < bottom:
        return count - top, count - bottom, True
    return bottom, top, False


def prepared_page(
    key, listed, rows, bottom: int, top: int, *values, reorder=None, plan_once=False, count=None, unconverted=False,
) -> list | prepared.Unconverted:
    """page_of() by a prepared query (config.prepared, which says what `plan_once` and
    `unconverted` are):
    `listed(*values)` and `reorder(queryset, *values)` get the values' stand-ins. The
    query's SQL depends on the slice page_of() takes, not on `count` itself, so a
    thread's last page keeps its SQL while replies come in (until the page fills)."""
    return prepared.rows(
        (key, *window(bottom, top, count), bottom >= DEEP_OFFSET),
        lambda *stand_ins: page_of(
            listed(*stand_ins), rows, bottom, top,
            reorder=reorder and (lambda found: reorder(found, *stand_ins)), count=count,
        ),
        *values,
        plan_once=plan_once,
        unconverted=unconverted,
    )


def one_value(queryset, expression):
    """`queryset.aggregate(n=expression)["n"]` as a values_list() of one row, which a
    prepared query can run: grouped by a constant, which Django leaves out of GROUP BY,
    so the whole queryset makes the one row."""
    return (
        queryset.order_by().annotate(every=models.Value(1)).values("every").annotate(n=expression)
        .values_list("n", flat=True)
    )


def greatest_thread_rows(user, hours: int, bottom: int, top: int) -> list:
    """Threads `bottom` to `top` of Greatest over the last `hours` for the reader
    (for_greatest since HoursAgo(hours)), as rows of ThreadQuerySet.rows. Planned once
    on PostgreSQL: the moment is the database's clock in the SQL (HoursAgo), so the one
    plan knows how many recommendations it reads."""
    from .models import Thread

    if not user.is_authenticated:
        return prepared_page(
            ("threads:greatest", hours), lambda: Thread.objects.greatest(HoursAgo(hours)), ThreadQuerySet.rows,
            bottom, top, reorder=lambda found: found.by_recent_recommendations(HoursAgo(hours)), plan_once=True,
        )
    return prepared_page(
        ("threads:greatest:wanted", hours), lambda member_id: Thread.objects.wanted_by(member_id).greatest(HoursAgo(hours)),
        ThreadQuerySet.rows, bottom, top, user.pk,
        reorder=lambda found, member_id: found.by_recent_recommendations(HoursAgo(hours)), plan_once=True,
    )


def greatest_thread_count(user, hours: int) -> int:
    """How many threads Greatest over the last `hours` lists for the reader."""
    from .models import Thread

    if not user.is_authenticated:
        return prepared.rows(
            ("threads:greatest:count", hours),
            lambda: one_value(Thread.objects.recommended_since(HoursAgo(hours)), models.Count("pk")), plan_once=True,
        )[0]
    return prepared.rows(
        ("threads:greatest:count:wanted", hours),
        lambda member_id: one_value(
            Thread.objects.wanted_by(member_id).recommended_since(HoursAgo(hours)), models.Count("pk")
        ),
        user.pk, plan_once=True,
    )[0]


def listed_sections() -> list:
    """Every section in order, as rows of what All Forums shows of one (pk, name, slug)."""
    from .models import Section

    return prepared.rows(
        "sections:listed", lambda: Section.objects.values_list(*SECTION_LISTING_COLUMNS, named=True), plan_once=True
    )


def latest_thread_count(user) -> int:
    """How many threads Latest lists for the reader (ThreadQuerySet.kept_count)."""
    from .models import Thread

    if not user.is_authenticated:
        return prepared.rows("threads:latest:count", lambda: Thread.objects.kept_count(), plan_once=True)[0]
    return prepared.rows(
        "threads:latest:count:wanted", lambda member_id: Thread.objects.kept_count(member_id), user.pk, plan_once=True
    )[0]


# How long "About this forum" may show a count of posts of the last 30 days that no
# post has changed: the posts leaving those days leave it this much late at most.
RECENT_POSTS_KEPT_SECONDS = 10 * 60


def recent_post_count(forum) -> int:
    """Posts of the last 30 days in the forum's threads, for "About this forum".

    A thread's last activity is its newest post (forums.services), so only the threads
    active in those days are searched for their posts, through the forum page's index.
    Each of their posts' dates is still read: 21,000 of them in the big forum of the
    1,000,000-post bench, 28 ms (250 ms before, through all 138,000, twice). So the
    count is kept in the cache under the forum's page versions (config.page_cache),
    which every post in the forum, every move into or out of it and every import
    change: a new post counts at once."""
    from django.core.cache import cache

    from .models import Post

    def count() -> int:
        since = timezone.now() - timedelta(days=30)
        return Post.objects.filter(
            thread__forum_id=forum.pk, thread__last_activity_at__gte=since, created_at__gte=since
        ).count()

    versions = page_cache.versions(page_cache.SITE, page_cache.forum(forum.slug))
    if versions is None:  # nothing may be kept while visitors' pages are not
        return count()
    key = ":".join(["forums:recent-posts", str(forum.pk), *map(str, versions)])
    return cache.get_or_set(key, count, RECENT_POSTS_KEPT_SECONDS)


def forum_page_thread_rows(forum_id: int, user, bottom: int, top: int, *, count: int | None = None) -> list:
    """Threads `bottom` to `top` of a forum's list for the reader (for_forum_page), as
    rows of ThreadQuerySet.rows. `count`, when given, is how many the list holds (the
    forum's thread_count for a visitor, forum_for_page's `listed_count` for a member):
    pages past the middle are found from the end (page_of). A member's deep pages
    need it most: skipping a thread means asking whether they trashed it or ignore its
    author, and the last page of a 4,600-thread forum took 1.1 ms skipping from the
    start against 0.2 ms for its first page (SQLite)."""
    from .models import Thread

    threads = Thread.objects.pinned_first()
    if not user.is_authenticated:
        # A visitor's list keeps one plan (config.prepared): the forum's ordered index,
        # read until the page is full, whatever the forum's size (0.3 ms against 1.0
        # planned each time, at a million posts, from the largest forum to the
        # smallest).
        return prepared_page(
            "threads:forum", lambda forum_id: threads.filter(forum_id=forum_id), ThreadQuerySet.rows, bottom, top,
            forum_id, plan_once=True, count=count,
        )
    # A member's keeps one plan per forum: the forum is written into the SQL, the member
    # is the one value. With the forum a value too, their filters (trashed, ignored)
    # made the one plan read and sort all 4,600 threads of the largest forum (21 ms
    # against 1.3); per forum, it ran as fast as a plan made for each run, from the
    # largest forum to a small one and from page 1 to 154, without the 0.3-0.5 ms of
    # planning.
    return prepared_page(
        ("threads:forum:wanted", forum_id), lambda member_id: threads.filter(forum_id=forum_id).wanted_by(member_id),
        ThreadQuerySet.rows, bottom, top, user.pk, plan_once=True, count=count,
    )


def thread_reply_rows(
    thread_id: int, bottom: int, top: int, *, count: int, flat: bool, full_text: bool = False, unconverted=False,
) -> list | prepared.Unconverted:
    """Replies `bottom` to `top` of a thread in tree order (by number when `flat`), as
    rows of PostQuerySet.reply_index_rows (with `full_text`, of full_text_rows). `count`
    is the thread's reply_count, which is exact (replies are never removed): deep pages
    past the middle are found from the end (page_of). `unconverted`: as
    config.prepared.Unconverted, for a caller that keeps what it makes of them."""
    from .models import Post

    # A page of "View all" keeps one plan for every thread (config.prepared): it reads
    # the (thread, tree_path) index in order, or (thread, number) when flat, and stops
    # at the page, for a thread of 28 replies as for one of 31,000 (0.3-0.6 ms), without
    # 0.5-1 ms of planning. The reply index's page of 200 does not: for a thread of
    # the average 23 replies a hash join of every member is as cheap as looking up 23
    # authors, and for the 31,000 of the largest that plan read and sorted them all
    # (77 ms, against 1.3 ms planned for the thread). Its lines are kept by the page
    # cache's versions anyway (forums.views._reply_index_page), so planning is rare.
    return prepared_page(
        ("posts:replies", flat, full_text),
        lambda thread_id: Post.objects.replies_in_reader_order(thread_id, flat=flat),
        PostQuerySet.full_text_rows if full_text else PostQuerySet.reply_index_rows, bottom, top, thread_id,
        count=count, plan_once=full_text, unconverted=unconverted,
    )


def profile_post_rows(author_id: int) -> dict[str, list]:
    """What a member's profile lists of their posts, as rows of PostQuerySet.for_profile:
    their most recent posts (`recent`), and what juries and staff hid of theirs in the
    last FORUMS_HIDDEN_WINDOW_DAYS (`hidden`)."""
    from .models import Post

    limit = settings.FORUMS_PROFILE_RECENT_POSTS
    since = timezone.now() - timedelta(days=settings.FORUMS_HIDDEN_WINDOW_DAYS)
    # Both keep one plan (config.prepared): each reads an index of the author's posts
    # in order (the newest first; the hidden ones since a moment) and stops at its
    # limit, so the one plan reads no more for an author of thousands of posts than
    # for one of a single post. Planned for each run, planning took 0.6-0.9 ms of each
    # query's 0.7-1.4 ms at a million posts; the one plan ran as fast as a plan made
    # for the author, from one post to 575.
    return {
        "recent": prepared.rows(
            ("posts:profile", limit),
            lambda author_id: Post.objects.for_profile(author_id).filter(is_hidden=False)[:limit], author_id,
            plan_once=True,
        ),
        "hidden": prepared.rows(
            "posts:profile:hidden",
            lambda author_id, since: Post.objects.for_profile(author_id).hidden_since(since), author_id, since,
            plan_once=True,
        ),
    }


def _with_related(key, chain, lookup: str, value, *values, extra=None):
    """The first of `chain`'s models, found by `lookup` = `value`, holding the next as its
    related row, and so on ((model, prefix) pairs, the prefix naming the relation from
    the first: "forum__section__"), as select_related() gives them, or None: made
    from one row of a prepared query. Building the ORM's join was a tenth of a page.

    `extra` (an Extra) adds columns to the same query, given to the first model."""
    from django.db import DEFAULT_DB_ALIAS

    fields, columns = _chain_columns(chain)

    def query(value, *values):
        found = chain[0][0].objects.filter(**{lookup: value})
        if extra is None:
            return found.values_list(*columns)
        return extra.joined(found, *values).values_list(*columns, *extra.columns)

    found = prepared.rows(key, query, value, *values, plan_once=True)
    if not found:
        return None
    row, start, made = found[0], 0, []
    for (model, _prefix), names in zip(chain, fields, strict=True):
        values = row[start:start + len(names)]
        start += len(names)
        # A missing related row (a forum outside any section): its columns are all empty.
        made.append(model.from_db(DEFAULT_DB_ALIAS, names, values) if values[0] is not None else None)
    for (_model, prefix), holder, related in zip(chain[1:], made[:-1], made[1:], strict=True):
        setattr(holder, prefix.rstrip("_").rsplit("__", 1)[-1], related)
    if extra is not None:
        extra.give(made[0], row[start:])
    return made[0]


class Extra(NamedTuple):
    """Columns that _with_related's query adds (`columns`, after `joined(queryset,
    *values)` has annotated or related what they name) and `give(instance, values)`,
    which sets them on the first model's instance."""

    columns: tuple
    joined: Callable
    give: Callable


@functools.cache
def _chain_columns(chain) -> tuple[list[list[str]], list[str]]:
    """Each of `chain`'s models' concrete columns, and all of them under their prefixes:
    worked out once, not on every page."""
    fields = [[field.attname for field in model._meta.concrete_fields] for model, _prefix in chain]
    columns = [f"{prefix}{name}" for (_model, prefix), names in zip(chain, fields, strict=True) for name in names]
    return fields, columns


def thread_for_page(thread_id: int):
    """The thread with its forum and the forum's section, as Thread.objects.for_detail()
    gives it, or None; with its opening post as `opening_post_row` (a row of
    PostQuerySet.for_thread_page, None if it has none) and the ids of its forum's hosts
    as `forum_host_ids` (a set: their posts carry the Host badge), in the same query: on
    PostgreSQL each query of a thread page is a round trip of some 0.15 ms."""
    from .models import Forum, Section, Thread

    return _with_related(
        "threads:detail", ((Thread, ""), (Forum, "forum__"), (Section, "forum__section__")), "pk", thread_id,
        extra=_THREAD_PAGE_EXTRA,
    )


def _thread_page_joined(found):
    from .models import Forum

    hosts = (
        Forum.hosts.through.objects.filter(forum_id=models.OuterRef("forum_id"))
        .values("forum_id")
        .annotate(ids=models.StringAgg(Cast("user_id", models.CharField()), models.Value(",")))
        .values("ids")
    )
    return found.annotate(
        opening_post=models.FilteredRelation("posts", condition=models.Q(posts__number=0)),
        forum_host_ids=models.Subquery(hosts),
    )


def _give_thread_page_extra(thread, values) -> None:
    *opening_post, host_ids = values
    thread.opening_post_row = None if opening_post[0] is None else _OPENING_POST_ROW(*opening_post)
    thread.forum_host_ids = {int(pk) for pk in host_ids.split(",")} if host_ids else set()


_OPENING_POST_ROW = create_namedtuple_class(*POST_PAGE_FIELDS)
_THREAD_PAGE_EXTRA = Extra(
    (*(f"opening_post__{name}" for name in POST_PAGE_FIELDS), "forum_host_ids"),
    _thread_page_joined,
    _give_thread_page_extra,
)


def forum_for_page(slug: str, member_id: int | None = None):
    """The forum with its section, as Forum.objects.select_related("section") gives it,
    or None; for a member, with how many threads their list of it holds (`listed_count`:
    ForumQuerySet.with_listed_count), in the same query."""
    from .models import Forum, Section

    chain = ((Forum, ""), (Section, "section__"))
    if member_id is None:
        return _with_related("forums:detail", chain, "slug", slug)
    return _with_related("forums:detail:member", chain, "slug", slug, member_id, extra=_LISTED_COUNT)


_LISTED_COUNT = Extra(
    ("listed_count",), lambda found, member_id: found.with_listed_count(member_id),
    lambda forum, values: setattr(forum, "listed_count", values[0]),
)


def member_for_profile(username: str):
    """The active member of this username, as User.objects.get() gives them, or None: a
    profile's member, without building the ORM's query of some forty columns on
    every visit to a profile (a fifth of the page's time)."""
    from accounts.models import User

    member = _with_related("members:profile", ((User, ""),), "username", username)
    return member if member is not None and member.is_active else None


def recommender_rows(post_id: int) -> list:
    """Who recommended the post, in the order they did, as rows with what a link to each
    needs (`member_id` and the LINKED_MEMBER_FIELDS as `member__...`)."""
    from .models import Recommendation

    return prepared.rows(
        "recommendations:recommenders",
        lambda post_id: Recommendation.objects.filter(post_id=post_id).order_by("created_at", "id").values_list(
            "member_id", *(f"member__{name}" for name in LINKED_MEMBER_FIELDS), named=True
        ),
        post_id, plan_once=True,
    )


class HoursAgo(models.Expression):
    """The moment `hours` ago by the database's clock, written into the SQL, for
    comparing with a DateTimeField ("recommended in the last 24 hours").

    A moment sent as a parameter changes with every request, so PostgreSQL planned
    Greatest's queries anew each time (0.9 of their 1.2 ms), and the one plan it keeps
    for a prepared statement guesses a parameter's share of the rows: at 120,000
    recommendations it read a third of them (66 to 79 ms instead of 1 to 4). With the
    clock in the SQL, that one plan is made for the real moment, as fast as planning each
    run. The hours are part of the SQL too, and so of the query's shape."""

    output_field = models.DateTimeField()

    def __init__(self, hours: int):
        super().__init__()
        self.hours = int(hours)

    def as_sql(self, compiler, connection):
        return f"(STATEMENT_TIMESTAMP() - INTERVAL '{self.hours} hours')", []

    def as_sqlite(self, compiler, connection):
        # Django keeps datetimes in SQLite as UTC text, which compares as this does.
        return f"STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-{self.hours} hours')", []


class _WantedBy(models.Func):
    """True for a thread that the member did not trash, in a forum they did not trash,
    started by someone they do not ignore: three subqueries written out, because built
    as three excludes through the ORM they took a millisecond of Python on every list
    page. The thread's columns come from the ORM, so any alias of the table works."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, member_id, trashed_thread, trashed_forum, ignored_member):
        super().__init__(models.F("pk"), models.F("forum_id"), models.F("author_id"))
        self.member_id = member_id
        self.tables = [model._meta.db_table for model in (trashed_thread, trashed_forum, ignored_member)]

    def as_sql(self, compiler, connection, **extra):
        (thread, thread_params), (forum, forum_params), (author, author_params) = (
            compiler.compile(column) for column in self.get_source_expressions()
        )
        trashed_thread, trashed_forum, ignored = (connection.ops.quote_name(table) for table in self.tables)
        sql = (
            f"{thread} NOT IN (SELECT thread_id FROM {trashed_thread} WHERE member_id = %s) AND "
            f"{forum} NOT IN (SELECT forum_id FROM {trashed_forum} WHERE member_id = %s) AND "
            f"{author} NOT IN (SELECT ignored_id FROM {ignored} WHERE member_id = %s)"
        )
        member = self.member_id
        return f"({sql})", (*thread_params, member, *forum_params, member, *author_params, member)


class ThreadQuerySet(models.QuerySet):
    def for_reader(self, user):
        """Without the threads this member trashed, threads in forums they trashed, and
        threads started by members they ignore. Subqueries: no extra round trips."""
        if not user.is_authenticated:
            return self
        return self.wanted_by(user.pk)

    def wanted_by(self, member_id):
        """for_reader() for the member of this id."""
        from .models import IgnoredMember, TrashedForum, TrashedThread

        return self.filter(_WantedBy(member_id, TrashedThread, TrashedForum, IgnoredMember))

    def kept_count(self, member_id=None):
        """How many threads `wanted_by(member_id)` keeps (all of them, for None), for
        Latest's page count, as a one-value values_list() (latest_thread_count runs it):
        the forums' thread counters, less the member's trashed threads and ignored
        members' threads in the forums they kept. Counting the rows took 60 ms at
        40,000 threads on every page of Latest."""
        from .models import Forum

        forums = Forum.objects.order_by() if member_id is None else Forum.objects.kept_by(member_id).order_by()
        total = Coalesce(models.Sum("thread_count"), 0)
        if member_id is not None:
            kept = self.model.objects.filter(forum__in=forums.values("pk"))
            for unwanted in self.unwanted_counts(kept, member_id):
                total = total - unwanted
        return one_value(forums, total)

    @staticmethod
    def unwanted_counts(threads, member_id) -> list:
        """Two subqueries, counting the threads of `threads` that `wanted_by(member_id)`
        leaves out, other than by forum: those the member trashed, and those started by
        members they ignore that they did not trash. Each is found through an index (the
        trashed ids; the ignored authors' threads by author and forum): with OR between
        them PostgreSQL read every thread."""
        from .models import IgnoredMember, TrashedThread

        trashed = TrashedThread.objects.filter(member_id=member_id).values("thread_id")
        ignored = IgnoredMember.objects.filter(member_id=member_id).values("ignored_id")
        threads = threads.order_by()
        return [
            count_of(unwanted)
            for unwanted in (threads.filter(pk__in=trashed), threads.filter(author__in=ignored).exclude(pk__in=trashed))
        ]

    @staticmethod
    def _recommended_since(since):
        """Recommendations of opening posts since `since`."""
        from .models import Post, Recommendation

        # Found from the recent recommendations (the index on their time), each checked
        # against its thread's opening post. Joined to posts instead, the planner may
        # start from posts: SQLite read every thread's opening post (150 ms at 40,000
        # threads) to find the few recommended in the last day.
        opening_post = Post.objects.filter(thread_id=models.OuterRef("thread_id"), number=0).values("pk")[:1]
        return Recommendation.objects.filter(created_at__gte=since, post_id=models.Subquery(opening_post))

    def recommended_since(self, since):
        """Threads whose opening post was recommended since `since`."""
        return self.filter(pk__in=self._recommended_since(since).values("thread_id"))

    def greatest(self, since):
        """Threads by recommendations of their opening post since `since`; ties go to
        the newer thread."""
        return self.recommended_since(since).by_recent_recommendations(since)

    def by_recent_recommendations(self, since):
        """Ordered by recommendations of their opening post since `since`, then newest."""
        recent = self._recommended_since(since)
        return self.annotate(
            recent_recommendations=models.Subquery(
                recent.filter(thread_id=models.OuterRef("pk"))
                .values("thread_id")
                .annotate(recent=models.Count("id"))
                .values("recent")
            )
        ).order_by("-recent_recommendations", "-created_at", "-id")

    def pinned_first(self):
        return self.order_by("-is_pinned", "-last_activity_at", "-id")

    def newest(self):
        return self.order_by("-created_at", "-id")

    def rows(self):
        """Rows of what a thread list shows (forums.fragments.ThreadRow.of): rows, not
        instances, because a thread with its author, last poster and forum made four
        model instances per row, a fifth of a forum page's time."""
        return self.values_list(*THREAD_ROW_COLUMNS, named=True)

    # Each list as the ORM builds it for a reader; the pages get the same rows from
    # prepared queries (forum_page_thread_rows, latest_thread_rows, greatest_thread_rows),
    # which tests/forums/test_prepared_queries.py holds to these.
    def for_forum_page(self, forum, user):
        return self.filter(forum=forum).for_reader(user).pinned_first()

    def for_latest(self, user):
        return self.for_reader(user).newest()

    def for_greatest(self, user, since):
        return self.for_reader(user).greatest(since)

    def for_detail(self):
        return self.select_related("forum__section")


class PostQuerySet(models.QuerySet):
    def for_thread_page(self, *extra):
        """Rows of what a thread page shows of posts and their authors, for
        forums.fragments.PostFacts: rows, not instances, because building a post and an
        author instance for each of 50 replies took as long as rendering them."""
        return self.values_list(*POST_PAGE_FIELDS, *extra, named=True)

    def replies(self):
        return self.filter(parent__isnull=False)

    def in_tree_order(self):
        return self.order_by("tree_path")

    def replies_in_tree_order(self, thread):
        """The thread's replies in tree order. Replies are told from the opening post by
        their tree path (the opening post's is empty), so the (thread, tree_path) index
        alone finds a page of them, however deep."""
        return self.filter(thread=thread, tree_path__gt="").in_tree_order()

    def replies_in_reader_order(self, thread, *, flat: bool):
        """The thread's replies in the reader's order: the tree's, or by number when flat.
        Each is told from the opening post by what its order's index holds, so that the
        index alone finds a page: its tree path, or its number (the opening post's is 0)."""
        if flat:
            return self.filter(thread=thread, number__gt=0).order_by("number")
        return self.replies_in_tree_order(thread)

    def replies_before(self, post, *, flat: bool) -> int:
        """How many replies come before `post` in "View all": by number when flat
        (numbers are given at write time, so no query), else in tree order."""
        if flat:
            return post.number - 1
        return self.filter(thread_id=post.thread_id, parent__isnull=False, tree_path__lt=post.tree_path).count()

    def reply_index_rows(self):
        """Replies as rows of only what an index line shows (forums.fragments.reply_index):
        a page of the index has 200 lines, and building a post and an author instance
        for each took four times as long as the query."""
        return self.values_list(
            "pk", "number", "depth", "subject", "created_at", "is_deleted", "is_hidden", "author_id",
            "author__username", "author__display_name", "author__deleted_at", named=True,
        )

    def for_reply_index(self, thread):
        """The thread's replies, tree-ordered, as reply index rows."""
        return self.replies_in_tree_order(thread).reply_index_rows()

    def full_text_rows(self):
        """Replies as rows with their bodies and their parents' numbers, for "View all"."""
        return self.annotate(parent_number=models.F("parent__number")).for_thread_page("parent_number")

    def hidden_since(self, since):
        return self.filter(is_hidden=True, hidden_at__gte=since)

    def for_profile(self, author):
        """Rows of an author's posts, newest first, with what a list of them shows
        (forums.fragments.recent_posts): subject, where, when and recommendations."""
        return (
            self.filter(author=author)
            .order_by("-created_at", "-id")
            .values_list(
                "pk", "number", "parent_id", "thread_id", "thread__slug", "subject", "created_at",
                "recommendation_count", "hidden_at", "thread__forum__name", "thread__forum__slug", named=True,
            )
        )


class PollOptionQuerySet(models.QuerySet):
    def for_thread_page(self, thread, member):
        """Rows of a thread's poll options in order, each with the poll's own columns and
        whether `member` chose it: the whole poll in one query (forums.polls.poll_page),
        whatever the number of options or votes."""
        from .models import PollChoice

        if member.is_authenticated:
            chosen = models.Exists(PollChoice.objects.filter(option=models.OuterRef("pk"), vote__member=member))
        else:
            chosen = models.Value(False)
        return (
            self.filter(poll_id=thread.pk)
            .order_by("position")
            .annotate(chosen=chosen)
            .values_list(
                "pk", "text", "vote_count", "chosen", "poll__question", "poll__max_choices",
                "poll__allows_vote_change", "poll__results_shown", "poll__closes_at", "poll__closed_at",
                "poll__voter_count", named=True,
            )
        )


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_inbox(self, member):
        return (
            self.filter(recipient=member)
            .order_by("-created_at", "-id")
            .select_related("actor", "post__thread")
        )


class PictureQuerySet(models.QuerySet):
    def pending(self):
        """Uploaded and not yet placed in a post or message."""
        return self.filter(placed_at__isnull=True)

    def uploaded_since(self, owner, since):
        return self.filter(owner=owner, created_at__gte=since)

    def for_compose(self, owner):
        """The member's pending pictures, newest first, for the forms that place them."""
        return self.pending().filter(owner=owner).order_by("-created_at", "-id").only(
            "name", "width", "height", "created_at", "owner_id"
        )

    def for_serving(self):
        """A picture with what decides who sees it: its post's state and author."""
        return self.select_related("post").only(
            "owner_id", "post_id", "placed_at", "format", "display", "thumbnail", "created_at",
            "post__author_id", "post__is_deleted", "post__is_hidden",
        )
