"""Search on PostgreSQL picks its own road to the newest matches (forums.search,
PROBE_ROWS): posts read newest first when the words are common among them, the
full-text index when they are rare, a small forum's or author's posts gathered first.
Each road must show members the same page. Run with DATABASE_URL naming PostgreSQL."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from forums import search
from forums.models import Post
from forums.search import parse, search_posts
from forums.services import post_delete, reply_create, thread_create
from moderation.services import post_hide
from tests.factories import ForumFactory, MemberFactory

SEARCH = reverse("forums:search")
CAP = 8  # FORUMS_SEARCH_MAX_RESULTS here: fewer than the matches, so the cap matters


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")


@pytest.fixture
def corpus(db):
    """31 posts by three authors in two forums, a day apart, oldest first: every second
    one says "budget"; one budget reply is hidden by staff and one deleted."""
    rosa, ben, ida = (MemberFactory(username=name) for name in ["rosa", "ben", "ida"])
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    climate, labor = ForumFactory(name="Climate"), ForumFactory(name="Labor")
    start = timezone.now() - timedelta(days=40)
    threads = [
        thread_create(forum=forum, author=author, title=title, body="Opening words.", created_at=start)
        for forum, author, title in [
            (climate, rosa, "Solar farms"), (labor, ida, "Teachers strike"), (climate, ben, "Wind leases"),
        ]
    ]
    authors = [rosa, ben, ida]
    for n in range(28):
        body = f"The budget line {n} for schools." if n % 2 else f"Weather report number {n}."
        reply_create(
            author=authors[n % 3], parent=threads[n % 3].posts.get(number=0), body=body,
            subject=f"Reply {n}", created_at=start + timedelta(days=n + 1),
        )
    budget = Post.objects.filter(body_text__contains="budget").order_by("id")
    post_hide(staff=staff, post=budget[5], hide=True)
    post_delete(member=budget[9].author, post=Post.objects.get(pk=budget[9].pk))
    return {"rosa": rosa, "ben": ben, "ida": ida, "staff": staff, "climate": climate, "labor": labor, "start": start}


def _expected(*, include_hidden=False, forum=None, author=None, since=None, until=None) -> list[int]:
    """The newest CAP posts saying "budget" that pass the filters, worked out in Python."""
    posts = Post.objects.select_related("thread").order_by("-id")
    wanted = []
    for post in posts:
        if "budget" not in post.body_text.lower():
            continue
        if not include_hidden and (post.is_hidden or post.is_deleted):
            continue
        if forum is not None and post.thread.forum_id != forum.pk:
            continue
        if author is not None and post.author_id != author.pk:
            continue
        if since is not None and post.created_at < since:
            continue
        if until is not None and post.created_at >= until:
            continue
        wanted.append(post.pk)
    return wanted[:CAP]


def _filter_sets(corpus) -> dict[str, dict]:
    start = corpus["start"]
    return {
        "none": {},
        "staff": {"include_hidden": True},
        "forum": {"forum": corpus["climate"]},
        "author": {"author": corpus["ida"]},
        "dates": {"since": start + timedelta(days=6), "until": start + timedelta(days=22)},
        "forum and author": {"forum": corpus["labor"], "author": corpus["ben"], "include_hidden": True},
    }


ROADS = {
    # name: (PROBE_ROWS, what walk_budget answers, the calls the search must make;
    # the walk reads on from the first look's 4 posts, so its budget is 4 less)
    "the first look settles it": (500, None, ["probe"]),
    "a walk": (4, 10_000, ["probe", "walk 9996"]),
    "a walk that gives up, then the index": (4, 6, ["probe", "walk 2", "index"]),
    "the index": (4, None, ["probe", "index"]),
}


@pytest.mark.parametrize("gather_max", [0, 50_000], ids=["walk all posts", "gather forum or author"])
@pytest.mark.parametrize("road", ROADS)
def test_every_road_finds_the_same_newest_matches(corpus, settings, monkeypatch, road, gather_max):
    settings.FORUMS_SEARCH_MAX_RESULTS = CAP
    probe, budget, calls_wanted = ROADS[road]
    monkeypatch.setattr(search, "PROBE_ROWS", probe)
    monkeypatch.setattr(search, "GATHER_MAX_POSTS", gather_max)
    monkeypatch.setattr(search, "walk_budget", lambda **figures: budget)
    calls = []
    results_class = search._PostgresResults
    for method in ("_probe", "_walk", "_from_index"):
        original = getattr(results_class, method)

        def recorded(self, *args, original=original, method=method, **kwargs):
            calls.append({"_probe": "probe", "_from_index": "index"}.get(method, f"walk {args[0]}"))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(results_class, method, recorded)

    for name, filters in _filter_sets(corpus).items():
        calls.clear()
        expected = _expected(**filters)
        results = search_posts(parse("budg"), order="newest", **filters)
        found = [post.pk for post in results[0:results.count()]]
        assert found == expected, name
        assert results.count() == len(expected), name
        if name == "none":
            assert calls == calls_wanted
            assert len(expected) == CAP  # the cap was reached: older matches left out


def _titles(response) -> list[str]:
    return re.findall(r'class="result-title"><a [^>]*>(.*?)</a>', response.content.decode())


@pytest.mark.parametrize("budget", [40_000, None], ids=["walk", "index"])
def test_common_words_rank_the_most_relevant_first_and_page_on(client, db, monkeypatch, budget):
    """Thirty posts hold a common word: the one with it in its title ranks first, the
    pager offers the rest, hidden posts stay out, and staff find them."""
    monkeypatch.setattr(search, "PROBE_ROWS", 5)  # past the first look, with so few posts
    monkeypatch.setattr(search, "walk_budget", lambda **figures: budget)
    author, forum = MemberFactory(), ForumFactory()
    thread = thread_create(forum=forum, author=author, title="Budget day", body="The budget is out.")
    opening = thread.posts.get(number=0)
    replies = [
        reply_create(author=MemberFactory(), parent=opening, subject=f"Reply {n}",
                     body=f"Talk about the budget, part {n}.")
        for n in range(29)
    ]
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    post_hide(staff=staff, post=replies[-1], hide=True)

    first = client.get(SEARCH, {"q": "budget"})
    second = client.get(SEARCH, {"q": "budget", "page": 2})

    page = first.content.decode()
    assert "29 posts found" in page
    assert re.sub(r"<[^>]+>", "", _titles(first)[0]) == "Budget day"
    assert 'rel="next"' in page and len(_titles(first)) == 20
    assert len(_titles(second)) == 9 and 'rel="next"' not in second.content.decode()
    assert "Reply 28" not in page + second.content.decode()
    client.force_login(staff)
    assert "30 posts found" in client.get(SEARCH, {"q": "budget"}).content.decode()


@pytest.mark.parametrize("budget", [40_000, None], ids=["walk", "index"])
def test_search_query_count_on_each_road(client, db, monkeypatch, django_assert_num_queries, budget):
    monkeypatch.setattr(search, "PROBE_ROWS", 5)
    monkeypatch.setattr(search, "walk_budget", lambda **figures: budget)
    forum = ForumFactory()
    for n, author in enumerate(MemberFactory.create_batch(3)):
        thread = thread_create(forum=forum, author=author, title=f"Thread {n}", body="budget talk")
        for m in range(3):
            reply_create(author=author, parent=thread.posts.get(number=0), body=f"More budget {m}")
    # header 3, sponsor, forum choices, the first look, the walk or the index, the
    # page's ranking, its posts with threads and authors
    with django_assert_num_queries(9):
        response = client.get(SEARCH, {"q": "budget"})
    assert len(_titles(response)) == 12
