"""The lists whose SQL is made once per process (config.prepared) give what their
querysets give, for each reader and each run's values."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from config import prepared
from forums import querysets
from forums.models import Forum, Post, Thread
from forums.querysets import (
    PostQuerySet,
    ThreadQuerySet,
    forum_for_page,
    forum_page_thread_rows,
    greatest_thread_count,
    greatest_thread_rows,
    latest_thread_count,
    latest_thread_rows,
    listed_forums,
    listed_sections,
    profile_post_rows,
    thread_for_page,
    thread_reply_rows,
)
from forums.reading import member_thread_state
from forums.services import (
    forum_trash_set,
    member_ignore_set,
    recommendation_set,
    thread_trash_set,
)
from tests.factories import (
    ForumFactory,
    MemberFactory,
    ReplyFactory,
    SectionFactory,
    ThreadFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["shallow", "deep"])
def depth(request, monkeypatch):
    """Pages found by one query with the joins, and pages found in two steps (ids, then
    rows: forums.querysets.page_of), as page 2 and page 500 are."""
    if request.param == "deep":
        monkeypatch.setattr(querysets, "DEEP_OFFSET", 0)
    return request.param


@pytest.fixture
def world():
    """Three forums with threads by three authors; one reader trashed a forum, a thread
    and ignores an author, another did nothing."""
    forums = ForumFactory.create_batch(3)
    authors = MemberFactory.create_batch(3)
    threads = [ThreadFactory(forum=forum, author=author) for forum in forums for author in authors]
    for thread in threads[:3]:
        ReplyFactory(parent=thread.posts.get(number=0), author=authors[1])
    picky, easy = MemberFactory(), MemberFactory()
    forum_trash_set(member=picky, forum=forums[2], trash=True)
    thread_trash_set(member=picky, thread=threads[0], trash=True)
    member_ignore_set(member=picky, other=authors[1], ignore=True)
    return {"forums": forums, "threads": threads, "readers": [picky, easy, AnonymousUser()]}


def test_listed_forums_match_the_listing_queryset_for_each_reader(world):
    for reader in world["readers"]:
        for featured in (False, True):
            forums = Forum.objects.featured() if featured else Forum.objects.all()
            expected = list(forums.for_reader(reader).for_listing())
            assert listed_forums(reader, featured=featured) == expected
    picky, easy, _visitor = world["readers"]
    assert len(listed_forums(picky)) == len(listed_forums(easy)) - 1


def test_thread_lists_match_their_querysets_for_each_reader_and_page(world, depth):
    forum = world["forums"][0]
    for reader in world["readers"]:
        for bottom, top in ((0, 2), (2, 5), (0, 30)):
            latest = list(ThreadQuerySet.rows(Thread.objects.for_latest(reader))[bottom:top])
            assert latest_thread_rows(reader, bottom, top) == latest
            in_forum = list(ThreadQuerySet.rows(Thread.objects.for_forum_page(forum, reader))[bottom:top])
            assert forum_page_thread_rows(forum.pk, reader, bottom, top) == in_forum
    picky, easy, _visitor = world["readers"]
    # Without the trashed forum's three threads, the trashed thread and the ignored
    # author's two threads in the other forums.
    assert len(latest_thread_rows(picky, 0, 30)) == len(latest_thread_rows(easy, 0, 30)) - 6


def test_forum_listed_count_is_what_its_list_holds_for_each_reader(world):
    picky, easy, _visitor = world["readers"]
    for forum in world["forums"]:
        for member in (picky, easy):
            listed = Thread.objects.for_forum_page(forum, member).count()
            assert forum_for_page(forum.slug, member.pk).listed_count == listed
    # The first forum without the thread picky trashed and the ignored author's; none of
    # the forum picky trashed; the second without the ignored author's alone.
    assert [forum_for_page(forum.slug, picky.pk).listed_count for forum in world["forums"]] == [1, 2, 0]
    assert [forum_for_page(forum.slug, easy.pk).listed_count for forum in world["forums"]] == [3, 3, 3]
    assert not hasattr(forum_for_page(world["forums"][0].slug), "listed_count")


def test_counted_lists_find_every_slice_from_either_end(world, monkeypatch, django_assert_num_queries):
    """Given the exact count, a forum's list and Latest find pages past the middle from
    the end: every slice holds the rows the queryset holds there, for each reader."""
    monkeypatch.setattr(querysets, "DEEP_OFFSET", 0)
    forum = world["forums"][0]
    for author in MemberFactory.create_batch(3):
        ThreadFactory.create_batch(2, forum=forum, author=author)
    for reader in world["readers"]:
        in_forum = list(ThreadQuerySet.rows(Thread.objects.for_forum_page(forum, reader)))
        count = forum_for_page(forum.slug, reader.pk).listed_count if reader.pk else len(in_forum)
        latest = list(ThreadQuerySet.rows(Thread.objects.for_latest(reader)))
        assert count == len(in_forum) and latest_thread_count(reader) == len(latest)
        for bottom in range(count):
            for top in range(bottom + 1, count + 1):
                assert forum_page_thread_rows(forum.pk, reader, bottom, top, count=count) == in_forum[bottom:top]
        for bottom, top in ((0, 3), (3, 7), (len(latest) - 4, len(latest) - 1), (len(latest) - 2, len(latest))):
            assert latest_thread_rows(reader, bottom, top, count=len(latest)) == latest[bottom:top]
    picky = world["readers"][0]
    count = forum_for_page(forum.slug, picky.pk).listed_count
    with django_assert_num_queries(1) as last_page:
        forum_page_thread_rows(forum.pk, picky, count - 2, count, count=count)
    with django_assert_num_queries(1) as first_page:
        forum_page_thread_rows(forum.pk, picky, 0, 2, count=count)
    assert '"is_pinned" ASC' in last_page.captured_queries[0]["sql"]
    assert '"is_pinned" ASC' not in first_page.captured_queries[0]["sql"]


def test_latest_count_is_what_latest_lists_for_each_reader(world):
    counts = []
    for reader in world["readers"]:
        listed = Thread.objects.for_latest(reader).count()
        assert latest_thread_count(reader) == listed
        counts.append(listed)
    picky, easy, visitor = counts
    assert picky == easy - 6 and easy == visitor
    # A second run, with other values in the same SQL: another member's own count.
    thread_trash_set(member=world["readers"][1], thread=world["threads"][4], trash=True)
    assert latest_thread_count(world["readers"][1]) == easy - 1
    assert latest_thread_count(world["readers"][0]) == picky


def test_greatest_matches_its_queryset_for_each_reader_and_moment(world, depth):
    from datetime import timedelta

    from django.utils import timezone

    from forums.models import Recommendation
    from forums.querysets import HoursAgo

    now = timezone.now()
    fans = MemberFactory.create_batch(3)
    for n, thread in enumerate(world["threads"]):
        opening_post = thread.posts.get(number=0)
        for fan in fans[: n % 4]:
            recommendation_set(member=fan, post=opening_post, recommend=True)
        # Half an hour off the hour, so that no recommendation sits on a list's edge
        # while the database's clock and this one differ by a few milliseconds.
        Recommendation.objects.filter(post=opening_post).update(created_at=now - timedelta(hours=n, minutes=30))
    for reader in world["readers"]:
        for hours in (3, 24, 100):
            # The same threads whether the moment is the database's clock or ours.
            threads = Thread.objects.for_greatest(reader, HoursAgo(hours))
            assert list(threads) == list(Thread.objects.for_greatest(reader, now - timedelta(hours=hours)))
            assert greatest_thread_count(reader, hours) == threads.count()
            for bottom, top in ((0, 2), (1, 30)):
                assert greatest_thread_rows(reader, hours, bottom, top) == list(ThreadQuerySet.rows(threads)[bottom:top])
    picky, easy, visitor = world["readers"]
    # Three of each four threads are recommended; those of the last 3 hours are the
    # first three threads', of which the first has no recommendation.
    assert greatest_thread_count(easy, 100) == 6
    assert greatest_thread_count(visitor, 3) == 2
    assert [row.pk for row in greatest_thread_rows(visitor, 3, 0, 30)] == [world["threads"][2].pk, world["threads"][1].pk]
    assert greatest_thread_count(picky, 100) < greatest_thread_count(easy, 100)


def test_thread_replies_and_opening_post_match_their_querysets(world, depth):
    """Every slice of a thread's replies, in tree order and by number; deep slices nearer
    the end than the start are found from the end (page_of), and give the same rows."""
    thread = world["threads"][0]
    first = thread.posts.get(number=1)
    nested = ReplyFactory(parent=first, author=world["readers"][1])
    ReplyFactory(parent=thread.posts.get(number=0), author=world["readers"][0])
    ReplyFactory(parent=nested, author=world["readers"][1])
    ReplyFactory(parent=first, author=world["readers"][0])
    thread.refresh_from_db()
    count = thread.reply_count
    replies = Post.objects.replies_in_tree_order(thread)
    assert count == replies.count() == 5
    slices = [(bottom, top) for bottom in range(count) for top in range(bottom + 1, count + 1)]
    for flat in (False, True):
        ordered = replies.order_by("number") if flat else replies
        index_rows = list(PostQuerySet.reply_index_rows(ordered))
        full_rows = list(PostQuerySet.full_text_rows(ordered))
        for bottom, top in slices:
            assert thread_reply_rows(thread.pk, bottom, top, count=count, flat=flat) == index_rows[bottom:top]
            # As the database gave them, made into the same rows when read (the reply index's).
            unconverted = thread_reply_rows(thread.pk, bottom, top, count=count, flat=flat, unconverted=True)
            assert len(unconverted.raw) == len(unconverted) == top - bottom
            assert list(unconverted) == index_rows[bottom:top]
            assert thread_reply_rows(thread.pk, bottom, top, count=count, flat=flat, full_text=True) == (
                full_rows[bottom:top]
            )
    for each in world["threads"][:2]:
        expected = Post.objects.for_thread_page().get(thread=each, number=0)
        assert thread_for_page(each.pk).opening_post_row == expected
        assert thread_for_page(each.pk).opening_post_row._fields == expected._fields


def test_a_deep_page_near_the_end_is_found_from_the_end(world, monkeypatch, django_assert_num_queries):
    """The last page of a long thread skips from the end: its query reads the replies in
    reverse order, so the database skips only what comes after the page."""
    monkeypatch.setattr(querysets, "DEEP_OFFSET", 2)
    thread = world["threads"][0]
    for _ in range(6):
        ReplyFactory(parent=thread.posts.get(number=0), author=world["readers"][1])
    thread.refresh_from_db()
    count = thread.reply_count
    with django_assert_num_queries(1) as last_page:
        thread_reply_rows(thread.pk, count - 2, count, count=count, flat=True)
    with django_assert_num_queries(1) as early_page:
        thread_reply_rows(thread.pk, 2, 4, count=count, flat=True)

    assert '"number" DESC' in last_page.captured_queries[0]["sql"]
    assert '"number" DESC' not in early_page.captured_queries[0]["sql"]


def test_prepared_query_refuses_a_value_it_does_not_use(world):
    with pytest.raises(ValueError):
        prepared.rows("test:unused-value", lambda member_id: Forum.objects.values_list("pk"), 1)


def test_an_empty_page_of_replies_is_empty_without_a_query(world, depth, django_assert_num_queries):
    thread = world["threads"][-1]
    with django_assert_num_queries(0):
        assert thread_reply_rows(thread.pk, 0, 0, count=thread.reply_count, flat=False) == []


def test_prepared_query_refuses_a_query_that_depends_on_the_clock(world):
    """A date among the values would be the first run's for every later run."""
    from datetime import timedelta

    from django.utils import timezone

    def recent_threads(forum_id):
        since = timezone.now() - timedelta(days=30)
        return Thread.objects.filter(forum_id=forum_id, created_at__gte=since).values_list("pk", flat=True)

    with pytest.raises(ValueError, match="date or time"):
        prepared.rows("test:recent", recent_threads, world["forums"][0].pk)


def test_a_moment_among_the_values_is_the_runs_own(world):
    """A datetime passed as a value is put into each run, as an integer is."""
    from datetime import timedelta

    from django.utils import timezone

    forum = world["forums"][0]
    threads = list(Thread.objects.filter(forum=forum).order_by("pk"))
    now = timezone.now()
    for age, thread in enumerate(threads):
        Thread.objects.filter(pk=thread.pk).update(created_at=now - timedelta(hours=age * 10))

    def since(forum_id, moment):
        return Thread.objects.filter(forum_id=forum_id, created_at__gte=moment).order_by("pk").values_list(
            "pk", flat=True
        )

    for hours, expected in ((1, threads[:1]), (15, threads[:2]), (100, threads)):
        moment = now - timedelta(hours=hours)
        assert prepared.rows("test:since", since, forum.pk, moment) == [thread.pk for thread in expected]
        assert list(since(forum.pk, moment)) == [thread.pk for thread in expected]
    with pytest.raises(ValueError, match="aware"):
        prepared.rows("test:since", since, forum.pk, now.replace(tzinfo=None))


def test_rows_hold_the_values_the_orm_gives_of_every_kind(world):
    """Dates and times aware (set or empty, from a column or an aggregate), booleans as
    bool (from a column or an expression), days, numbers and text: the same values of
    the same types as the queryset's own rows, whatever the database's driver gave."""
    from datetime import timedelta

    from django.db.models import Exists, Max, OuterRef, Q
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    forum = world["forums"][0]
    first = Post.objects.filter(thread__forum=forum, number=0).order_by("pk")[0]
    Post.objects.filter(pk=first.pk).update(edited_at=timezone.now() - timedelta(hours=3), is_deleted=True)

    def every_kind(forum_id):
        return (
            Post.objects.filter(thread__forum_id=forum_id)
            .annotate(
                newest=Max("thread__posts__created_at"), day=TruncDate("created_at"),
                answered=Exists(Post.objects.filter(parent=OuterRef("pk"))), opening=Q(number=0),
            )
            .order_by("pk")
            .values_list("pk", "body", "created_at", "edited_at", "is_deleted", "author__is_staff",
                         "thread__created_at", "newest", "day", "answered", "opening", named=True)
        )

    made = prepared.rows("test:every-kind", every_kind, forum.pk)
    expected = list(every_kind(forum.pk))
    assert made == expected
    for made_row, expected_row in zip(made, expected, strict=True):
        assert [type(value) for value in made_row] == [type(value) for value in expected_row]
        assert made_row.created_at.tzinfo is not None and made_row.newest.tzinfo is not None
    assert {row.answered for row in made} == {True, False} and {row.opening for row in made} == {True, False}
    assert {row.edited_at is None for row in made} == {True, False}
    assert {row.is_deleted for row in made} == {True, False}
    assert prepared.rows("test:every-kind", every_kind, forum.pk, unconverted=True).rows == expected


def test_a_profiles_posts_are_its_recent_and_lately_hidden_ones(world, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.FORUMS_PROFILE_RECENT_POSTS = 2
    author = MemberFactory()
    posts = [ReplyFactory(parent=thread.posts.get(number=0), author=author) for thread in world["threads"][:5]]
    now = timezone.now()
    for age, post in enumerate(posts):
        Post.objects.filter(pk=post.pk).update(created_at=now - timedelta(hours=age))
    Post.objects.filter(pk=posts[0].pk).update(is_hidden=True, hidden_at=now - timedelta(days=1))
    Post.objects.filter(pk=posts[1].pk).update(
        is_hidden=True, hidden_at=now - timedelta(days=settings.FORUMS_HIDDEN_WINDOW_DAYS + 1)
    )
    other = MemberFactory()

    found = profile_post_rows(author.pk)

    assert [row.pk for row in found["recent"]] == [posts[2].pk, posts[3].pk]
    assert [row.pk for row in found["hidden"]] == [posts[0].pk]
    assert found["recent"] == list(Post.objects.for_profile(author).filter(is_hidden=False)[:2])
    assert profile_post_rows(other.pk) == {"recent": [], "hidden": []}


def test_sections_are_listed_in_their_order(db):
    from forums.models import Section

    SectionFactory(name="Zebra", position=1)
    SectionFactory(name="Aardvark", position=1)
    SectionFactory(name="Last", position=9)
    SectionFactory(name="First", position=0)
    expected = [(section.pk, section.name, section.slug) for section in Section.objects.all()]
    assert [tuple(row) for row in listed_sections()] == expected
    mine = {"Zebra", "Aardvark", "Last", "First"}
    assert [row.name for row in listed_sections() if row.name in mine] == ["First", "Aardvark", "Zebra", "Last"]


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def _assert_same_section(made, expected):
    """The forum's section as select_related() gives it: none, or the same row."""
    assert (made.section is None) == (expected.section is None)
    assert made.section is None or _fields(made.section) == _fields(expected.section)


def test_a_threads_page_gets_the_thread_its_forum_and_section(world):
    from forums.models import Section

    in_section = world["threads"][0]
    Forum.objects.filter(pk=in_section.forum_id).update(section=SectionFactory(), rules="Be kind.")
    alone = world["threads"][4]
    Forum.objects.filter(pk=alone.forum_id).update(kind="main", section=None)
    # Two hosts in one forum, none in the other.
    Forum.objects.get(pk=in_section.forum_id).hosts.set(MemberFactory.create_batch(2))
    Forum.objects.get(pk=alone.forum_id).hosts.clear()
    for thread in (in_section, alone):
        expected = Thread.objects.for_detail().get(pk=thread.pk)
        made = thread_for_page(thread.pk)
        assert _fields(made) == _fields(expected)
        assert _fields(made.forum) == _fields(expected.forum)
        _assert_same_section(made.forum, expected.forum)
        assert made.get_absolute_url() == expected.get_absolute_url()
        assert not made._state.adding and made.forum.rule_list == expected.forum.rule_list
        assert made.opening_post_row.pk == thread.posts.get(number=0).pk
        assert made.opening_post_row.author__username == thread.author.username
        assert made.forum_host_ids == set(expected.forum.hosts.values_list("pk", flat=True))
    assert thread_for_page(in_section.pk).forum.section == Section.objects.get(forums__threads=in_section)
    assert thread_for_page(10**9) is None


def test_a_forums_page_gets_the_forum_and_its_section(world):
    in_section = world["forums"][0]
    Forum.objects.filter(pk=in_section.pk).update(section=SectionFactory(), rules="Be kind.")
    alone = world["forums"][1]
    Forum.objects.filter(pk=alone.pk).update(kind="main", section=None)
    for forum in (in_section, alone):
        expected = Forum.objects.select_related("section").get(pk=forum.pk)
        made = forum_for_page(expected.slug)
        assert _fields(made) == _fields(expected)
        _assert_same_section(made, expected)
        assert made.rule_list == expected.rule_list and made.get_absolute_url() == expected.get_absolute_url()
    assert forum_for_page("no-such-forum") is None
    assert forum_for_page("") is None


def test_a_string_value_is_each_runs_own_and_never_part_of_the_sql(world):
    slugs = [forum.slug for forum in world["forums"]]

    def by_slug(slug):
        return Forum.objects.filter(slug=slug).values_list("pk", flat=True)

    for forum in world["forums"]:
        assert prepared.rows("test:slug", by_slug, forum.slug) == [forum.pk]
    assert prepared.rows("test:slug", by_slug, "x' OR '1'='1") == []
    with pytest.raises(ValueError):
        prepared.rows("test:slug-contains", lambda slug: Forum.objects.filter(slug__contains=slug).values_list("pk"), slugs[0])



def _prepared_on_the_server() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_only_queries_whose_values_change_no_plan_are_prepared_on_postgresql(world):
    """A forum by its slug and a visitor's page of a forum may keep one plan, and a
    member's page of a forum one plan per forum (the forum written into the SQL); so
    may a page of "View all", read in its order's index, in the tree's order or by
    number; any other query is planned for each run, the reply index's page too (one
    plan for it hashed every member and sorted all replies of the largest thread)."""
    thread = world["threads"][0]
    picky = world["readers"][0]
    for _ in range(8):
        assert forum_for_page(thread.forum.slug).pk == thread.forum_id
        assert forum_page_thread_rows(thread.forum_id, AnonymousUser(), 0, 30)
        assert forum_page_thread_rows(thread.forum_id, picky, 0, 30) is not None
        assert thread_reply_rows(thread.pk, 0, 50, count=thread.reply_count, flat=False)
        assert thread_reply_rows(thread.pk, 0, 50, count=thread.reply_count, flat=True)
        assert thread_reply_rows(thread.pk, 0, 50, count=thread.reply_count, flat=False, full_text=True)
        assert thread_reply_rows(thread.pk, 0, 50, count=thread.reply_count, flat=True, full_text=True)
        assert Thread.objects.filter(pk=thread.pk).exists()

    statements = _prepared_on_the_server()
    assert [statement for statement in statements if '"forums_forum"."slug" = $1' in statement]
    forum_pages = [statement for statement in statements if '"forums_thread"."forum_id" = $1' in statement]
    assert len(forum_pages) == 1 and "forums_ignoredmember" not in forum_pages[0]
    members_forum_pages = [
        statement for statement in statements if f'"forums_thread"."forum_id" = {thread.forum_id} ' in statement
    ]
    assert len(members_forum_pages) == 1 and '"forums_ignoredmember" WHERE member_id = $3' in members_forum_pages[0]
    # A page of "View all": the thread is its one parameter, and the opening post is
    # left out by what the order's index holds (the flat order's by number, not by
    # path). The reply index's pages (without the posts' bodies) are not prepared.
    replies = [statement for statement in statements if '"forums_post"."thread_id" = $1' in statement]
    assert len(replies) == 2 and all('"forums_post"."body_html"' in statement for statement in replies)
    assert [statement for statement in replies if '"forums_post"."tree_path" > $2' in statement]
    assert [statement for statement in replies if '"forums_post"."number" > 0' in statement]
    assert not [statement for statement in statements if "EXISTS" in statement.upper() or "LIMIT 1" in statement]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_members_own_marks_are_prepared_on_postgresql(world):
    picky = world["readers"][0]
    thread = world["threads"][1]
    post_ids = list(thread.posts.values_list("pk", flat=True))
    for _ in range(8):
        # The author of this thread is one picky ignores.
        assert member_thread_state(picky, thread, post_ids)["ignored_ids"] == {thread.author_id}

    assert [statement for statement in _prepared_on_the_server() if "SELECT 'mark'" in statement]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_greatest_keeps_one_plan_with_the_database_clock_in_its_sql(world):
    """Greatest's moment is no parameter: a parameter's share of recent recommendations
    is a guess in a kept plan (a third of them), the clock in the SQL is not. Nor is
    the opening post's number 0, which PostgreSQL would not keep one plan without."""
    for reader in world["readers"]:
        for _ in range(8):
            greatest_thread_count(reader, 24)
            greatest_thread_rows(reader, 24, 0, 30)
    greatest = [statement for statement in _prepared_on_the_server() if "forums_recommendation" in statement]
    # Rows and count, for a visitor and for a member.
    assert len(greatest) == 4
    for statement in greatest:
        assert "STATEMENT_TIMESTAMP() - INTERVAL '24 hours'" in statement
        assert "created_at\" >= $" not in statement
        assert '"number" = 0' in statement
    # Only the member's id is a parameter (three times: trashed threads, forums, ignores).
    assert sorted(len(re.findall(r"\$\d", statement)) for statement in greatest) == [0, 0, 3, 3]
    # And PostgreSQL keeps one plan for each, the members' too.
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE '%%forums_recommendation%%'")
        assert all(generic_plans > 0 for (generic_plans,) in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_profiles_posts_keep_one_plan_for_every_author(world):
    """An author's newest posts are read in the order of an index of their posts, up to
    a limit: one plan reads as few rows for a prolific author as for a new one."""
    authors = [thread.author for thread in world["threads"]]
    for _ in range(3):
        for author in authors:
            profile_post_rows(author.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans FROM pg_prepared_statements WHERE statement LIKE '%%\"author_id\" = $1%%'"
        )
        profiles = cursor.fetchall()
    # The recent and the lately hidden posts, the author a parameter of each.
    assert len(profiles) == 2 and all(generic_plans > 0 for _statement, generic_plans in profiles)
