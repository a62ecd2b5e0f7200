"""Search finds the same posts on SQLite (FTS5) and PostgreSQL (tsvector): CI runs
this module on both."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from forums.forms import SearchForm
from forums.models import Forum, Post
from forums.search import parse, walk_budget
from forums.services import post_delete, post_edit, reply_create, thread_create
from moderation.services import post_hide
from tests.factories import ForumFactory, MemberFactory

SEARCH = reverse("forums:search")


def _titles(response) -> list[str]:
    page = response.content.decode()
    return [re.sub(r"<[^>]+>", "", title) for title in re.findall(r'class="result-title"><a [^>]*>(.*?)</a>', page)]


def _count(response) -> int:
    found = re.search(r"(\d+) posts? found", response.content.decode())
    return int(found.group(1)) if found else -1


@pytest.fixture
def corpus(db):
    """Three forums, three authors, a small known set of posts."""
    rosa, ben, ida = (MemberFactory(username=name) for name in ["rosa", "ben", "ida"])
    climate, labor, lounge = (ForumFactory(name=name) for name in ["Climate", "Labor", "Lounge"])
    solar = thread_create(forum=climate, author=rosa, title="Solar subsidies in the budget",
                          body="The new budget doubles solar subsidies for rural cooperatives.")
    wind = thread_create(forum=climate, author=ben, title="Offshore wind auction",
                         body="Offshore wind leases sold out; solar was not part of it.")
    strike = thread_create(forum=labor, author=ida, title="Teachers strike",
                           body="The teachers union voted to strike over class sizes.")
    reply_create(author=ben, parent=solar.posts.get(number=0),
                 body="Cooperatives in Iowa already run solar farms.", subject="Iowa example")
    reply_create(author=rosa, parent=strike.posts.get(number=0),
                 body="Solidarity with the teachers! Électricité workers joined too.")
    thread_create(forum=lounge, author=ida, title="Caturday", body="Post your cat pictures here.")
    return {"rosa": rosa, "ben": ben, "ida": ida, "climate": climate, "labor": labor,
            "solar": solar, "wind": wind, "strike": strike}


def test_search_finds_words_in_titles_and_bodies(client, corpus):
    response = client.get(SEARCH, {"q": "solar"})
    assert _count(response) == 3
    # The title match ranks first; the words are highlighted.
    assert _titles(response)[0] == "Solar subsidies in the budget"
    assert "<mark>solar</mark>" in response.content.decode().lower()


def test_all_words_must_match_and_words_match_as_prefixes(client, corpus):
    assert _count(client.get(SEARCH, {"q": "solar cooperatives"})) == 2
    assert _count(client.get(SEARCH, {"q": "cooperative"})) == 2  # prefix of "cooperatives"
    assert _count(client.get(SEARCH, {"q": "solar strike"})) == 0


def test_phrases_and_accents(client, corpus):
    assert _count(client.get(SEARCH, {"q": '"teachers union"'})) == 1
    assert _count(client.get(SEARCH, {"q": '"union teachers"'})) == 0
    assert _count(client.get(SEARCH, {"q": "électricité"})) == 1


def test_filters_by_forum_author_and_dates(client, corpus):
    assert _count(client.get(SEARCH, {"q": "solar", "forum": corpus["climate"].slug})) == 3
    assert _count(client.get(SEARCH, {"q": "solar", "forum": corpus["labor"].slug})) == 0
    assert _count(client.get(SEARCH, {"q": "solar", "author": "ben"})) == 2
    Post.objects.filter(thread=corpus["wind"]).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    assert _count(client.get(SEARCH, {"q": "solar", "since": today.isoformat()})) == 2
    old = (today - timedelta(days=5)).isoformat()
    assert _count(client.get(SEARCH, {"q": "solar", "until": old})) == 1


def _forum_options(html: str) -> list[tuple[str, bool, str]]:
    select = re.search(r'<select name="forum"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)
    ]


@pytest.mark.parametrize("chosen", [None, "labor", "no-such-forum"])
def test_forum_filter_offers_every_forum_as_djangos_select_would(client, corpus, chosen):
    """The search form writes its long list of forums itself (forums.forms.LongSelect):
    the same options as Django's own select, in name order with "All forums" first,
    names escaped, the chosen one selected."""
    ForumFactory(name='Tom & Jerry <"cartoons">', slug="cartoons")
    forum = corpus["labor"].slug if chosen == "labor" else chosen
    page = client.get(SEARCH, {"q": "solar", "forum": forum} if forum else {"q": "solar"}).content.decode()

    form = SearchForm({"q": "solar", "forum": forum} if forum else {"q": "solar"})
    stock = forms.Select(choices=form.fields["forum"].choices).render("forum", form["forum"].value())
    options = _forum_options(page)
    assert options == _forum_options(stock)
    assert options[0] == ("", chosen is None, "All forums")
    assert (corpus["labor"].slug, chosen == "labor", "Labor") in options
    assert ("cartoons", False, "Tom &amp; Jerry &lt;&quot;cartoons&quot;&gt;") in options
    # A forum that is not there (a form error) leaves nothing selected.
    assert [selected for _value, selected, _label in options].count(True) == (chosen != "no-such-forum")


def test_newest_first_option(client, corpus):
    Post.objects.filter(thread=corpus["solar"], number=0).update(created_at=timezone.now() - timedelta(days=3))
    titles = _titles(client.get(SEARCH, {"q": "solar", "order": "newest"}))
    assert titles[-1] == "Solar subsidies in the budget"


def test_posts_saying_the_words_more_often_rank_higher(client, db):
    author, forum = MemberFactory(), ForumFactory()
    for title, body in [
        ("Once", "The budget was read out in the hall before the climate talk began."),
        ("Thrice", "The budget, the budget and the climate budget were read out in the hall."),
        ("Twice", "The budget was read out in the hall, then the climate budget talk began."),
    ]:
        thread_create(forum=forum, author=author, title=title, body=body)
    assert _titles(client.get(SEARCH, {"q": "budget climate"})) == ["Thrice", "Twice", "Once"]


def test_results_are_paginated(client, db):
    author, forum = MemberFactory(), ForumFactory()
    for n in range(25):
        thread_create(forum=forum, author=author, title=f"Budget thread {n}", body="budget talk")
    first = client.get(SEARCH, {"q": "budget"})
    second = client.get(SEARCH, {"q": "budget", "page": 2})
    assert _count(first) == 25 and len(_titles(first)) == 20 and len(_titles(second)) == 5
    assert client.get(SEARCH, {"q": "budget", "page": 9}).status_code == 404


def test_common_words_search_the_newest_matches_only(client, db, settings):
    """A word in half the site's posts costs what a rare one does: search ranks only
    the newest FORUMS_SEARCH_MAX_RESULTS matches that pass the filters."""
    settings.FORUMS_SEARCH_MAX_RESULTS = 4
    author, forum, other_forum = MemberFactory(), ForumFactory(), ForumFactory()
    for n in range(6):
        thread_create(forum=forum, author=author, title=f"Budget thread {n}", body="budget talk")
    thread_create(forum=other_forum, author=author, title="Budget elsewhere", body="budget")

    everywhere = client.get(SEARCH, {"q": "budget", "order": "newest"})
    in_forum = client.get(SEARCH, {"q": "budget", "forum": forum.slug})

    assert _count(everywhere) == 4
    assert _titles(everywhere) == ["Budget elsewhere", "Budget thread 5", "Budget thread 4", "Budget thread 3"]
    # The page says that older matches were left out, and how to reach them.
    assert "More than 4 posts found. The newest 4 are shown:" in everywhere.content.decode()
    ranked = client.get(SEARCH, {"q": "budget"}).content.decode()
    assert "The newest 4 are shown, most relevant first: add words or a filter" in ranked
    elsewhere = client.get(SEARCH, {"q": "budget", "forum": other_forum.slug}).content.decode()
    assert "1 post found" in elsewhere and "More than" not in elsewhere
    # Filters apply before the cap: the forum's own four newest, not what is left of
    # the site's four newest.
    assert sorted(_titles(in_forum)) == [f"Budget thread {n}" for n in (2, 3, 4, 5)]


def test_index_follows_edit_delete_and_hide(client, corpus):
    strike = corpus["strike"].posts.get(number=0)
    post_edit(editor=corpus["ida"], post=strike, subject="Teachers strike", body="The nurses union voted.")
    assert _count(client.get(SEARCH, {"q": "nurses"})) == 1
    assert _count(client.get(SEARCH, {"q": "class sizes"})) == 0

    iowa = Post.objects.get(subject="Iowa example")
    post_delete(member=corpus["ben"], post=iowa)
    assert _count(client.get(SEARCH, {"q": "iowa"})) == 0

    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    post_hide(staff=staff, post=corpus["wind"].posts.get(number=0), hide=True)
    assert _count(client.get(SEARCH, {"q": "offshore"})) == 0

    client.force_login(staff)  # staff find hidden and deleted posts
    assert _count(client.get(SEARCH, {"q": "offshore"})) == 1
    assert _count(client.get(SEARCH, {"q": "iowa"})) == 1


def test_new_posts_are_found_at_once(client, corpus):
    reply_create(author=corpus["ida"], parent=corpus["wind"].posts.get(number=0), body="Geothermal next?")
    assert _count(client.get(SEARCH, {"q": "geothermal"})) == 1


HOSTILE_QUERIES = [
    '"', '""', '"unclosed phrase', "*", "solar*", "-solar", "NOT solar", "solar OR wind", "solar AND",
    "NEAR(solar wind)", "subject:solar", "^solar", "solar:*", "'; DROP TABLE forums_post; --",
    "<script>alert(1)</script>", "\\", "%", "_", "(((", "solar & | !", "\x00", "🙂", "日本語",
    "ﷺ", "a" * 200, "   ", "\t\n",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_never_break_the_page(client, corpus, query):
    response = client.get(SEARCH, {"q": query})
    assert response.status_code in {200, 400}
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    if response.status_code == 400:
        assert 'class="errorlist"' in page


def test_over_long_and_wordless_queries_get_a_message(client, corpus):
    too_long = client.get(SEARCH, {"q": "a" * 201})
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.content.decode()
    wordless = client.get(SEARCH, {"q": "!!! ???"})
    assert wordless.status_code == 400 and "at least one word" in wordless.content.decode()
    bad_date = client.get(SEARCH, {"q": "solar", "since": "2026-99-99"})
    assert bad_date.status_code == 400 and "Enter a valid date" in bad_date.content.decode()
    backwards = client.get(SEARCH, {"q": "solar", "since": "2026-05-02", "until": "2026-05-01"})
    assert backwards.status_code == 400 and "before the start date" in backwards.content.decode()


def test_parse_builds_groups_from_words_and_phrases():
    assert parse('Solar "Teachers Union" solar').groups == (("teachers", "union"), ("solar",))


def test_walk_budget_reads_posts_newest_first_only_when_that_reads_less():
    """PostgreSQL's choice of road, with figures from a million generated posts where
    each of 90 words is in half the posts (a first look at 2,000 posts, 1,001 wanted;
    a post read through the index counts twice)."""
    million = {"wanted": 1001, "read": 2000, "posts": 1_000_000, "gathered_posts": None}
    # Three common words: 432 of 2,000 posts match; the walk reads about 4,600 posts,
    # the index would read the 216,000 holding all three.
    assert walk_budget(found=432, all_words=432, **million) == 432_000
    # A rare word: nothing among the newest posts; the index reads next to nothing.
    assert walk_budget(found=0, all_words=0, **million) is None
    # A phrase of two common words: 40 matches, but 600 posts hold both words and the
    # index would read every one of those 300,000 to check the order of the words.
    assert walk_budget(found=40, all_words=600, **million) == 600_000
    # Common words in a forum of 3 % of the posts: 13 matches, a walk of 154,000
    # posts; the index would read 216,000 and skip the other forums' posts.
    assert walk_budget(found=13, all_words=432, **million) == 432_000
    # ... and in a small forum, gathered: reading all its 575 posts is cheaper.
    assert walk_budget(found=0, all_words=432, **{**million, "gathered_posts": 575}) == 432_000
    # Common words within two days: nothing found; a walk would read the whole site.
    assert walk_budget(found=0, all_words=432, **million) is None
    # Common words on a small site: the index reads no more than the site has.
    assert walk_budget(found=8, all_words=400, **{**million, "posts": 2_000}) is None


def test_search_form_offers_every_forum_by_name_and_a_new_forum_at_once(
    client, corpus, django_capture_on_commit_callbacks
):
    """The forum filter lists every forum, by name; the list is kept between pages
    (no query of the forums' table on the next search page) until the forums change."""
    client.force_login(MemberFactory())

    def options():
        page = client.get(SEARCH).content.decode()
        select = re.search(r'<select name="forum"[^>]*>(.*?)</select>', page, re.S).group(1)
        return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)

    every_forum = [("", "All forums"), *Forum.objects.order_by("name").values_list("slug", "name")]
    assert options() == every_forum
    with CaptureQueriesContext(connection) as queries:
        assert options() == every_forum
    assert [query["sql"] for query in queries if "forums_forum" in query["sql"]] == []
    with django_capture_on_commit_callbacks(execute=True):
        ForumFactory(name="Aardvark watchers", slug="aardvarks")
    assert options()[:2] == [("", "All forums"), ("aardvarks", "Aardvark watchers")]


def test_search_query_count(client, corpus, django_assert_num_queries):
    # header 3, sponsor, forum choices, the matches (SQLite: ranked, with snippets, in
    # the same query; PostgreSQL: then the page's ranking and headlines), the page's
    # posts with threads and authors
    with django_assert_num_queries(7 if connection.vendor == "sqlite" else 8):
        response = client.get(SEARCH, {"q": "solar"})
    assert len(_titles(response)) == 3


# Feeds.


def test_forum_rss_feed_lists_new_threads(client, corpus):
    response = client.get(reverse("forums:forum-feed", args=[corpus["climate"].slug]))
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title").startswith("Climate")
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Offshore wind auction", "Solar subsidies in the budget"]
    assert all(item.findtext("link").startswith("http") and item.findtext("pubDate") for item in items)
    assert "doubles solar subsidies" in items[1].findtext("description")


def test_atom_feeds_parse(client, corpus):
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    for url in [reverse("forums:forum-feed-atom", args=[corpus["labor"].slug]), reverse("forums:latest-feed-atom")]:
        root = ET.fromstring(client.get(url).content)
        assert root.tag == "{http://www.w3.org/2005/Atom}feed"
        entries = root.findall("atom:entry", ns)
        assert entries and all(entry.find("atom:id", ns) is not None for entry in entries)
        assert all(entry.find("atom:updated", ns) is not None for entry in entries)


def test_latest_feed_and_links_in_the_page_head(client, corpus):
    root = ET.fromstring(client.get(reverse("forums:latest-feed")).content)
    assert len(root.find("channel").findall("item")) == 4
    page = client.get(corpus["climate"].get_absolute_url()).content.decode()
    head = page.split("</head>")[0]
    assert reverse("forums:forum-feed", args=[corpus["climate"].slug]) in head
    assert 'type="application/atom+xml"' in head


def test_feed_of_unknown_forum_is_404(client, db):
    assert client.get("/f/no-such-forum/feed/").status_code == 404


def test_feed_query_count(client, corpus, django_assert_num_queries):
    with django_assert_num_queries(4):  # forum, threads with authors, opening posts, site name
        client.get(reverse("forums:forum-feed", args=[corpus["climate"].slug]))
