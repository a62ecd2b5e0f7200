import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import member_update
from forums import fragments, querysets
from forums.models import Forum, Thread, ThreadVisit
from forums.services import member_ignore_set, recommendation_set
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, SectionFactory, ThreadFactory

SEED_TITLE = (
    "Russia bombs Azerbaijani embassies in a massive missile retaliation "
    "to jet transfers to Ukraine - RFU News"
)


@pytest.fixture
def seeded(db):
    call_command("load_seeds")


@pytest.fixture
def seed_thread(seeded):
    return Thread.objects.get(title=SEED_TITLE)


def _text(response) -> str:
    return response.content.decode()


def _main(response) -> str:
    """The page without its header and footer."""
    page = _text(response)
    return page[page.index("<main"):page.index("</main>")]


# Every page shows its seeded content.


def test_home_shows_welcome_navigation_and_latest_threads(client, seed_thread):
    page = _text(client.get(reverse("forums:home")))

    assert "Welcome to DU!" in page
    assert "regular people, not algorithms, drive the discussions" in page
    for label in ["Latest Breaking News", "Editorials &amp; Other Articles", "General Discussion",
                  "The DU Lounge", "All Forums", "Issue Forums", "Culture Forums",
                  "Alliance Forums", "Region Forums", "Support Forums", "Help &amp; Search",
                  "Create a free account", "Log in"]:
        assert label in page, label
    assert seed_thread.get_absolute_url() in page


def test_header_navigation_is_in_seed_order(client, seeded):
    page = _text(client.get(reverse("forums:home")))
    nav = page[page.index('class="site-nav"'):]
    positions = [nav.index(label) for label in [
        "Latest Breaking News", "Editorials &amp; Other Articles", "General Discussion",
        "The DU Lounge", "All Forums", "Issue Forums", "Culture Forums", "Alliance Forums",
        "Region Forums", "Support Forums", "Help &amp; Search"]]
    assert positions == sorted(positions)


def test_header_shows_member_name_instead_of_signup(member_client, member, seeded):
    page = _text(member_client.get(reverse("forums:home")))
    assert member.public_name in page
    assert "Create a free account" not in page


def test_all_forums_groups_forums_by_section(client, seed_thread):
    page = _main(client.get(reverse("forums:forum-index")))
    jump_list, page = page.split("</nav>", 1)

    assert "Issue Forums" in jump_list and "Region Forums" in jump_list
    assert page.index("Main Forums") < page.index("Issue Forums") < page.index("Foreign Affairs")
    assert page.index("Region Forums") < page.index("Wyoming") < page.index("Support Forums")
    assert seed_thread.title[:40] in page  # the last post of Foreign Affairs


def test_section_page_lists_only_its_forums(client, seeded):
    page = _main(client.get(reverse("forums:section-detail", args=["culture"])))
    assert "Pets" in page and "Cooking &amp; Baking" in page
    assert "Foreign Affairs" not in page


def test_forum_page_lists_threads_with_reply_counts(client, seed_thread):
    page = _text(client.get(reverse("forums:forum-detail", args=["foreign-affairs"])))
    assert seed_thread.title in page
    assert "1 reply" in page and "1 replies" not in page
    assert "Caucasus Analyst" in page  # last poster


def test_forum_page_puts_pinned_threads_first_then_latest_activity(client, forum):
    old = ThreadFactory(forum=forum, title="Old but pinned")
    Thread.objects.filter(pk=old.pk).update(is_pinned=True)
    quiet = ThreadFactory(forum=forum, title="Quiet thread")
    ThreadFactory(forum=forum, title="Newer thread")
    ReplyFactory(parent=quiet.posts.get(number=0))  # bumps the quiet thread

    page = _text(client.get(forum.get_absolute_url()))

    assert page.index("Old but pinned") < page.index("Quiet thread") < page.index("Newer thread")


def test_forum_page_paginates(client, busy_forum, settings):
    settings.FORUMS_THREADS_PER_PAGE = 20
    first = _text(client.get(busy_forum.get_absolute_url()))
    third = client.get(busy_forum.get_absolute_url(), {"page": 3})

    assert "Page 1 of 3" in first
    assert third.status_code == 200 and "Page 3 of 3" in _text(third)
    assert _text(third).count('class="thread-title"') == 10


def test_deep_pages_show_what_one_query_would_show(client, busy_forum, settings, monkeypatch):
    """Deep pages find their rows' ids first, then join only those rows: the same
    threads and replies, in the same order, for a visitor and for a member."""
    settings.FORUMS_THREADS_PER_PAGE = 20
    settings.FORUMS_REPLIES_PER_PAGE = 7
    settings.FORUMS_INDEX_PER_PAGE = 5
    thread = busy_forum.threads.order_by("-reply_count").first()
    last_all, last_index = -(-thread.reply_count // 7), -(-thread.reply_count // 5)
    assert last_all >= 5 and last_index >= 5  # pages past the middle are found from the end
    urls = [
        (busy_forum.get_absolute_url(), {"page": 2}),
        (busy_forum.get_absolute_url(), {"page": 3}),
        (reverse("forums:latest"), {"page": 2}),
        (thread.get_view_all_url(), {"page": 3}),
        (thread.get_absolute_url(), {"page": 2}),
        (thread.get_view_all_url(), {"page": last_all - 1}),
        (thread.get_view_all_url(), {"page": last_all}),
        (thread.get_absolute_url(), {"page": last_index}),
    ]

    def pages():
        # Without the relative times ("8 seconds ago"), which move on between requests,
        # and the CSRF tokens, which are new for every page.
        return [
            re.sub(r'<time[^>]*>[^<]*</time>|name="csrfmiddlewaretoken" value="[^"]*"', "", _main(client.get(url, query)))
            for url, query in urls
        ]

    member = MemberFactory()
    User.objects.filter(pk=member.pk).update(replies_per_page=7, layout="flat")  # by number, not the tree
    member.refresh_from_db()
    plain = pages()
    client.force_login(member)
    pages()  # the member's first visit: their visits recorded, as the pages below see them
    plain_for_member = pages()
    client.logout()
    monkeypatch.setattr(querysets, "DEEP_OFFSET", 1)
    deep = pages()
    client.force_login(member)
    deep_for_member = pages()

    assert deep == plain and deep_for_member == plain_for_member
    assert 'class="thread-title"' in deep[1] and 'class="thread-title"' in deep[2]
    assert 'id="post-' in deep[3] and deep[4].count('id="index-') == 5
    # The opening post and a page of replies; the last pages hold what is left.
    assert deep[5].count("<article") == 1 + 7
    assert deep[6].count("<article") == 1 + thread.reply_count - 7 * (last_all - 1)
    assert deep[7].count('id="index-') == thread.reply_count - 5 * (last_index - 1)


def test_a_members_forum_pages_are_counted_without_what_they_ignore_or_trashed(db, client, settings, monkeypatch):
    """Pages of four threads: eleven threads make three pages for a visitor; a member who
    trashed one and ignores the author of two has eight, two full pages, and their last
    page, found from the end, holds the last of their list, not of the visitor's."""
    from forums.services import member_ignore_set, thread_trash_set

    settings.FORUMS_THREADS_PER_PAGE = 4
    monkeypatch.setattr(querysets, "DEEP_OFFSET", 1)
    forum, (author, ignored), member = ForumFactory(), MemberFactory.create_batch(2), MemberFactory()
    threads = [ThreadFactory(forum=forum, author=ignored if n in (2, 9) else author) for n in range(11)]
    thread_trash_set(member=member, thread=threads[5], trash=True)
    member_ignore_set(member=member, other=ignored, ignore=True)
    url = forum.get_absolute_url()

    assert client.get(url, {"page": 3}).status_code == 200
    client.force_login(member)
    wanted = [thread for n, thread in enumerate(threads) if n not in (2, 5, 9)]
    last_page = _main(client.get(url, {"page": 2}))
    titles = re.findall(r'class="thread-title"[^>]*>([^<]*)<', last_page)
    # Newest first: the page holds the four oldest threads the member sees.
    assert titles == [thread.title for thread in reversed(wanted[:4])]
    assert client.get(url, {"page": 3}).status_code == 404


@pytest.mark.parametrize("page", ["4", "0", "-1", "x", "9" * 30])
def test_forum_page_out_of_range_is_404(client, busy_forum, settings, page):
    settings.FORUMS_THREADS_PER_PAGE = 20
    response = client.get(busy_forum.get_absolute_url(), {"page": page})
    assert response.status_code == 404
    assert "Page not found" in _text(response)


def test_thread_page_shows_original_post_only_with_reply_index(client, seed_thread):
    page = _text(client.get(seed_thread.get_absolute_url()))

    assert "Showing Original Post only" in page
    assert seed_thread.get_view_all_url() in page
    assert "Today, the biggest news comes from the South Caucasus." in page
    assert "1 reply" in page and "1 replies" not in page
    assert "The Zangezur Corridor is the real story" in page  # the reply's subject
    assert "No missile fixes that" not in page  # ...but not its body
    assert "(1 post)" in page


def test_thread_view_all_shows_every_reply(client, seed_thread):
    page = _text(client.get(seed_thread.get_view_all_url()))

    assert "Today, the biggest news comes from the South Caucasus." in page
    assert "No missile fixes that." in page
    assert 'id="post-1"' in page


def test_reply_index_nests_replies_under_the_post_they_answer(client, thread, opening_post):
    first = ReplyFactory(parent=opening_post, subject="First answer")
    nested = ReplyFactory(parent=first, subject="Answer to the first")
    ReplyFactory(parent=opening_post, subject="Second answer")

    page = _text(client.get(thread.get_absolute_url()))

    tree = page[page.index('class="reply-tree"'):page.index("</section>", page.index('class="reply-tree"'))]
    assert tree.count("<ul>") == 1  # one nested list inside the index
    assert tree.index("First answer") < tree.index("<ul>") < tree.index("Answer to the first")
    assert tree.index("Answer to the first") < tree.index("</ul>") < tree.index("Second answer")
    assert f"#{nested.number}" in tree


def _index_numbers(page_html) -> list[int]:
    return [int(n) for n in re.findall(r'id="index-(\d+)"', page_html)]


@pytest.fixture
def long_branchy_thread(thread, opening_post, other_member):
    """Twelve replies in tree order 1, 1.1, 1.1.1, 2, 2.1, 2.1.1, ... (numbers 1..12)."""
    for _ in range(4):
        top = ReplyFactory(parent=opening_post, author=other_member)
        middle = ReplyFactory(parent=top, author=thread.author)
        ReplyFactory(parent=middle, author=other_member)
    return thread


def test_long_reply_index_comes_in_pages_that_link_to_the_right_view_all_page(
    client, long_branchy_thread, settings
):
    settings.FORUMS_INDEX_PER_PAGE = 5
    settings.FORUMS_REPLIES_PER_PAGE = 4
    url = long_branchy_thread.get_absolute_url()

    first, second, third = (_main(client.get(url, {"page": n})) for n in (1, 2, 3))

    assert _index_numbers(first) == [1, 2, 3, 4, 5]
    assert _index_numbers(second) == [6, 7, 8, 9, 10]
    assert _index_numbers(third) == [11, 12]
    assert "Page 2 of 3" in second
    # Reply #6 is the 6th in tree order: on View all page 2 at 4 replies a page.
    assert f'{long_branchy_thread.get_view_all_url()}?page=2#post-6"' in second
    assert client.get(url, {"page": 4}).status_code == 404


def test_index_page_starting_inside_a_branch_is_balanced_html(client, long_branchy_thread, settings):
    settings.FORUMS_INDEX_PER_PAGE = 5
    # Page 2 starts at #6, two levels deep, then climbs back to the top level at #7.
    tree = _main(client.get(long_branchy_thread.get_absolute_url(), {"page": 2}))
    tree = tree[tree.index('<ul class="reply-tree"'):tree.index("</section>")]

    assert tree.count("<ul") == tree.count("</ul>")
    assert tree.count("<li") == tree.count("</li>")


def test_a_members_marks_in_the_index_change_only_their_own_lines(
    member_client, member, long_branchy_thread, other_member, settings
):
    """The reader's ★, highlighting and ignored authors go on their own lines, on every
    page of the index (one starting inside a branch too); every other line, and the
    lists around them, are the visitor's markup exactly."""
    settings.FORUMS_INDEX_PER_PAGE = 5
    thread, url = long_branchy_thread, long_branchy_thread.get_absolute_url()
    member_client.get(url)  # the visit: replies from now on are new to the member
    visit = ThreadVisit.objects.filter(member=member, thread=thread)
    first_visit = visit.values_list("visited_at", "seen_reply_count").get()
    newcomer = MemberFactory(display_name="Late Arrival")
    replies = thread.posts.exclude(number=0).order_by("number")
    ReplyFactory(parent=replies.get(number=4), author=newcomer)  # #13, 5th in tree order
    ReplyFactory(parent=replies.get(number=10), author=other_member)  # #14, 12th in tree order
    ReplyFactory(parent=replies.get(number=10), author=newcomer)  # #15, 13th
    member_ignore_set(member=member, other=other_member, ignore=True)
    member_update(member=member, highlight="newest")  # #11 to #15

    tree = re.compile(r'<ul class="reply-tree">.*?</ul>\s*(?=<nav|</section>)', re.S)
    line = re.compile(r'<li id="index-(\d+)"( class="is-highlighted")?>(<span class="new-marker".*?</span> )?'
                      r'(<span class="muted">You are ignoring [^<]*</span>|<a href)', re.S)
    by_author = dict(thread.posts.values_list("number", "author_id"))
    seen = []
    for number in (1, 2, 3):
        visitors = tree.search(_text(Client().get(url, {"page": number}))).group()
        # Each page read as the first page after that visit (reading one records a visit).
        visit.update(visited_at=first_visit[0], seen_reply_count=first_visit[1])
        members = tree.search(_text(member_client.get(url, {"page": number}))).group()
        for found in line.finditer(members):
            reply, highlighted, new, shown = int(found[1]), bool(found[2]), bool(found[3]), found[4]
            seen.append(reply)
            assert highlighted == (reply > 10), reply
            assert new == (reply > 12 and by_author[reply] != member.pk), reply
            ignored = by_author[reply] == other_member.pk
            assert shown.startswith('<span class="muted">') == ignored, reply
            if ignored:
                assert f"You are ignoring {other_member.public_name}" in shown
        # Less the member's own marks (an ignored author's subject as a link again), the
        # visitor's index.
        plain = re.sub(r'<span class="new-marker".*?</span> ', "", members, flags=re.S)
        plain = plain.replace(' class="is-highlighted"', "")
        subjects = re.compile(r'(<a href="[^"]*">[^<]*</a>|<span class="muted">[^<]*</span>)(?= <span class="byline">)')
        assert subjects.sub("SUBJECT", plain) == subjects.sub("SUBJECT", visitors)
        assert visitors.count("SUBJECT") == 0 and len(subjects.findall(visitors)) == visitors.count("<li ")
    assert sorted(seen) == list(range(1, 16))


@pytest.mark.parametrize("page_cache_seconds", [60, 0])
def test_reply_index_pages_a_write_did_not_change_are_not_made_again(
    client, long_branchy_thread, other_member, settings, monkeypatch, page_cache_seconds,
    django_capture_on_commit_callbacks,
):
    """A page of the index is kept under the rows it is made of: a new reply at the end
    of the thread moves the thread's version (so the visitor's cached page goes), but
    the first page's lines are not made again, with visitors' pages cached or not; a
    renamed author's lines are."""
    settings.FORUMS_INDEX_PER_PAGE = 5
    settings.FORUMS_PAGE_CACHE_SECONDS = page_cache_seconds
    made = []
    make_lines = fragments.reply_index_lines
    monkeypatch.setattr(fragments, "reply_index_lines", lambda *a, **k: made.append(1) or make_lines(*a, **k))
    url = long_branchy_thread.get_absolute_url()

    def index(**query):
        page = _main(client.get(url, query))
        return page[page.index('<ul class="reply-tree"'):page.index("</section>")]

    first = index()
    with django_capture_on_commit_callbacks(execute=True):  # drops the cached pages
        ReplyFactory(parent=long_branchy_thread.posts.get(number=0), subject="A new branch at the end")
    assert index() == first
    assert len(made) == 1
    assert "A new branch at the end" in index(page=3)
    assert len(made) == 2

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=other_member, display_name="Renamed Replier")
    assert "Renamed Replier" in index()
    assert len(made) == 3


def test_thread_with_stale_slug_redirects_permanently(client, seed_thread):
    for url in [f"/t/{seed_thread.pk}/wrong-slug/", f"/t/{seed_thread.pk}/",
                f"/t/{seed_thread.pk}/wrong-slug/all/"]:
        response = client.get(url)
        assert response.status_code == 301
        assert response["Location"] in {seed_thread.get_absolute_url(), seed_thread.get_view_all_url()}


@pytest.mark.parametrize("url", ["/f/no-such-forum/", "/forums/no-such-section/", "/t/999999/x/",
                                 "/t/999999/x/all/", "/members/nobody/", "/no/such/page/"])
def test_unknown_pages_are_404_in_site_style(client, seeded, url):
    response = client.get(url)
    assert response.status_code == 404
    page = _text(response)
    assert "Page not found" in page
    assert "All Forums" in page  # the site header


def test_member_profile_lists_recent_posts(client, reply, other_member):
    page = _text(client.get(other_member.get_absolute_url()))
    assert other_member.public_name in page
    assert reply.subject in page
    assert "Member since" in page


def test_pages_send_a_content_security_policy(client, seeded):
    response = client.get(reverse("forums:home"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


# Query counts: constant whatever the number of rows. busy_forum has 50 threads and
# 200 nested replies from three authors. The first three queries of every page are
# the header: community, featured forums, sections.


@pytest.fixture
def three_sections(busy_forum):
    for n in range(3):
        section = SectionFactory()
        for forum in ForumFactory.create_batch(3, section=section):
            thread = ThreadFactory(forum=forum)
            ReplyFactory(parent=thread.posts.get(number=0))
    Forum.objects.filter(pk=busy_forum.pk).update(is_featured=True)
    return busy_forum


def test_home_query_count(client, three_sections, django_assert_num_queries):
    with django_assert_num_queries(6):  # header 3, sponsor, featured forums, latest threads
        response = client.get(reverse("forums:home"))
    assert _text(response).count('class="thread-title"') == 15


def test_all_forums_query_count(client, three_sections, django_assert_num_queries):
    with django_assert_num_queries(6):  # header 3, sponsor, forums with last posts, sections
        response = client.get(reverse("forums:forum-index"))
    assert _text(response).count('class="forum-name"') == 10


def test_section_query_count(client, three_sections, django_assert_num_queries):
    section = Forum.objects.exclude(pk=three_sections.pk).first().section
    with django_assert_num_queries(6):  # header 3, sponsor, section, its forums
        response = client.get(section.get_absolute_url())
    assert _text(response).count('class="forum-name"') == 3


def test_forum_query_count(client, busy_forum, django_assert_num_queries):
    with django_assert_num_queries(6):  # header 3, sponsor, forum, one page of threads
        response = client.get(busy_forum.get_absolute_url())
    assert _text(response).count('class="thread-title"') == 30


def test_thread_rows_show_each_authors_avatar_in_the_same_queries(client, busy_forum, django_assert_num_queries):
    """The avatar beside each row comes with the row's author: no query per row."""
    authors = list(User.objects.filter(threads__forum=busy_forum).distinct().order_by("pk"))
    assert len(authors) == 3
    User.objects.filter(pk=authors[0].pk).update(avatar="avatars/first.png")

    with django_assert_num_queries(6):  # as test_forum_query_count
        page = _text(client.get(busy_forum.get_absolute_url()))

    rows = re.findall(r"<tr[^>]*><th scope=\"row\">(<img [^>]*>)<a class=\"thread-title\"", page)
    assert len(rows) == 30
    assert set(rows) == {
        '<img class="avatar" src="/media/avatars/first.png" alt="" width="24" height="24" loading="lazy">',
        f'<img class="avatar" src="{static("img/avatar.svg")}" alt="" width="24" height="24" loading="lazy">',
    }


def _recommended_by_three(thread):
    """Three members recommend the opening post, so its "Recommended by" line (a query
    only when the post has recommendations) loops over more than one name."""
    opening_post = thread.posts.get(number=0)
    for _ in range(3):
        recommendation_set(member=MemberFactory(), post=opening_post, recommend=True)


def test_thread_query_count(client, busy_forum, django_assert_num_queries):
    thread = busy_forum.threads.order_by("-reply_count").first()
    _recommended_by_three(thread)
    # header 3, sponsor, thread with its opening post and its forum's host ids (for the
    # Host badge), the post's recommenders, index
    with django_assert_num_queries(7):
        response = client.get(thread.get_absolute_url())
    page = _text(response)
    assert page.count('id="index-') == 40
    assert page.split('class="recommenders"')[1].split("</p>")[0].count("<a ") == 3


def test_thread_view_all_query_count(client, busy_forum, django_assert_num_queries):
    thread = busy_forum.threads.order_by("-reply_count").first()
    _recommended_by_three(thread)
    # header 3, sponsor, thread with its opening post and its forum's host ids (for the
    # Host badge), the post's recommenders, replies
    with django_assert_num_queries(7):
        response = client.get(thread.get_view_all_url())
    page = _text(response)
    assert page.count('class="post-body"') == 41
    assert page.split('class="recommenders"')[1].split("</p>")[0].count("<a ") == 3


def test_recommenders_are_listed_in_the_order_they_recommended(client, thread, opening_post):
    first = MemberFactory(username="zed", display_name="Zed <b>Z</b>")
    second = MemberFactory(username="amy", display_name="")
    gone = MemberFactory(username="gone")
    for member in (first, second, gone):
        recommendation_set(member=member, post=opening_post, recommend=True)
    User.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())

    for url in (thread.get_absolute_url(), thread.get_view_all_url()):
        line = _text(client.get(url)).split('<p class="recommenders">')[1].split("</p>")[0]
        assert line.split()[:2] == ["Recommended", "by"]
        names = " ".join(line.split()[2:])
        assert names == (
            f'<a href="{first.get_absolute_url()}">Zed &lt;b&gt;Z&lt;/b&gt;</a>, '
            f'<a href="{second.get_absolute_url()}">amy</a>, deleted member'
        ), url


def test_member_profile_query_count(client, busy_forum, django_assert_num_queries):
    author = busy_forum.threads.first().author
    # header 3, member, recent posts with threads, hidden posts of the last 90 days
    with django_assert_num_queries(6):
        response = client.get(author.get_absolute_url())
    assert _text(response).count("<li>") >= 20


def _breadcrumbs(response) -> list[str]:
    """The breadcrumbs' items, each as its link's address and text or, for the current
    page, its text."""
    page = _text(response)
    nav = page[page.index('<nav class="breadcrumbs"'):]
    nav = nav[:nav.index("</nav>")]
    return [f"{href} {text}" if href else f"{text} (current)"
            for href, text in re.findall(r'<li(?: aria-current="page")?>(?:<a href="([^"]*)">)?([^<]*)', nav)]


def test_breadcrumbs_lead_from_all_forums_through_the_section_to_the_forum(client, member_client, thread):
    forum, section = thread.forum, thread.forum.section
    trail = ["/forums/ All Forums", f"/forums/{section.slug}/ {section.name}"]
    assert _breadcrumbs(client.get(thread.get_absolute_url())) == [*trail, f"/f/{forum.slug}/ {forum.name}"]
    assert _breadcrumbs(client.get(forum.get_absolute_url())) == [*trail, f"{forum.name} (current)"]
    assert _breadcrumbs(member_client.get(reverse("forums:thread-create", args=[forum.slug]))) == [
        *trail, f"/f/{forum.slug}/ {forum.name}"
    ]
    # A main forum may stand alone, outside any section; a renamed one shows its new name.
    main = ForumFactory(kind=Forum.Kind.MAIN, section=None, name="Standing Alone")
    assert _breadcrumbs(client.get(main.get_absolute_url())) == ["/forums/ All Forums", "Standing Alone (current)"]
    Forum.objects.filter(pk=main.pk).update(name="Renamed & Alone")
    assert _breadcrumbs(client.get(main.get_absolute_url())) == ["/forums/ All Forums", "Renamed &amp; Alone (current)"]
