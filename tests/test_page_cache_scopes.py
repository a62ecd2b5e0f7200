"""A write drops only the visitors' cached pages that show what it changed.

Every test warms the cache with a visitor's copy of each page, makes one kind of write
through the services (as the views and the admin do), and then checks, page by page,
that what shows the write is rendered again with it and that the rest is still served
from the cache. Each test runs on the local-memory cache and on Redis (skipped only
when REDIS_URL is unset).
"""

import os
import random

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import User
from accounts.services import member_update
from community.services import member_delete
from config import page_cache
from forums.services import post_edit, recommendation_set, reply_create
from moderation.models import JurySeat
from moderation.services import alert_create, alert_rule_create, jury_vote, thread_lock, thread_move
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory

PASSWORD = "correct horse battery staple"
LOCAL_MEMORY = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "scopes"},
    # The parts of posts every reader sees alike (forums.fragments), as in config/settings.py.
    django_settings.FORUMS_FRAGMENT_CACHE: {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "scopes-fragments",
    },
    "header": django_settings.CACHES["header"],
}


@pytest.fixture(params=["local memory", "redis"], autouse=True)
def backend(request, settings):
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL is unset")
        # The suite's own settings: Redis, a database per xdist worker (tests/conftest.py).
        assert django_settings.CACHES["default"]["BACKEND"] == "config.cache.RedisCache"
    else:
        settings.CACHES = LOCAL_MEMORY
    settings.FORUMS_PAGE_CACHE_SECONDS = 60
    cache.clear()
    yield request.param
    cache.clear()


def visit(url) -> tuple[str, str]:
    """A new visitor asks for `url`: whether it came from the cache, and the page."""
    response = Client().get(url)
    assert response.status_code == 200, url
    return response[page_cache.HEADER], response.content.decode()


def warm(*urls) -> None:
    for url in urls:
        assert visit(url)[0] == "miss", url
        assert visit(url)[0] == "hit", url


def cached(url) -> bool:
    return visit(url)[0] == "hit"


@pytest.fixture
def site(db):
    """Three forums; `author` started a thread in A and one in B, a third member one in
    C; the lists, threads and profiles visitors read."""
    author, third = MemberFactory(display_name="Alice Author"), MemberFactory()
    writer = MemberFactory(display_name="Wanda Writer")
    forums = {name: ForumFactory(name=f"Forum {name}", slug=f"forum-{name.lower()}") for name in "ABC"}
    threads = {
        "A": ThreadFactory(forum=forums["A"], author=author, title="Thread in forum A"),
        "B": ThreadFactory(forum=forums["B"], author=author, title="Thread in forum B"),
        "C": ThreadFactory(forum=forums["C"], author=third, title="Thread in forum C"),
    }
    urls = {
        **{f"forum {name}": forum.get_absolute_url() for name, forum in forums.items()},
        **{f"thread {name}": thread.get_view_all_url() for name, thread in threads.items()},
        "thread A index": threads["A"].get_absolute_url(),
        "front page": reverse("forums:home"),
        "All Forums": reverse("forums:forum-index"),
        "Latest": reverse("forums:latest"),
        "Greatest": reverse("forums:greatest"),
        "author's profile": author.get_absolute_url(),
        "writer's profile": writer.get_absolute_url(),
    }
    return {"author": author, "writer": writer, "third": third, "forums": forums, "threads": threads, "urls": urls}


def _opening(thread):
    return thread.posts.get(number=0)


def test_a_reply_drops_its_thread_forum_lists_and_profile_and_nothing_else(
    site, django_capture_on_commit_callbacks
):
    urls = site["urls"]
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        reply_create(author=site["writer"], parent=_opening(site["threads"]["A"]), body="Fresh reply text")

    source, page = visit(urls["thread A"])
    assert source == "miss" and "Fresh reply text" in page
    source, page = visit(urls["thread A index"])
    assert source == "miss" and "1 reply<" in page and "Fresh reply text" in page
    source, page = visit(urls["forum A"])
    assert source == "miss" and "1 reply<" in page and "Wanda Writer" in page
    for name in ("front page", "All Forums", "Latest"):
        source, page = visit(urls[name])
        assert source == "miss" and "Wanda Writer" in page, name
    source, page = visit(urls["writer's profile"])
    assert source == "miss" and "Fresh reply text" in page
    for name in ("forum B", "forum C", "thread B", "thread C", "author's profile"):
        assert cached(urls[name]), name


def test_a_reply_changes_its_authors_post_count_in_every_thread_they_posted_in(
    site, django_capture_on_commit_callbacks
):
    urls = site["urls"]
    warm(urls["thread B"], urls["thread C"])
    assert "(2 posts)" in visit(urls["thread B"])[1]

    with django_capture_on_commit_callbacks(execute=True):
        reply_create(author=site["author"], parent=_opening(site["threads"]["A"]), body="Another one")

    source, page = visit(urls["thread B"])
    assert source == "miss" and "(3 posts)" in page
    assert cached(urls["thread C"])


def test_an_edit_drops_its_thread_and_search_but_not_the_forum_lists(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    reply = ReplyFactory(parent=_opening(site["threads"]["A"]), author=site["writer"], body="First words")
    search = reverse("forums:search") + "?q=zanzibar"
    warm(*urls.values(), search)
    assert "Thread in forum A" not in visit(search)[1]

    with django_capture_on_commit_callbacks(execute=True):
        post_edit(editor=site["writer"], post=reply, body="Second words about zanzibar")

    source, page = visit(urls["thread A"])
    assert source == "miss" and "Second words about zanzibar" in page and "<p>First words</p>" not in page
    source, page = visit(search)
    assert source == "miss" and "Thread in forum A" in page
    for name in ("forum A", "forum B", "front page", "All Forums", "Latest", "thread B", "thread C"):
        assert cached(urls[name]), name


def test_a_new_thread_title_shows_in_its_forum_and_the_lists(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        post_edit(editor=site["author"], post=_opening(site["threads"]["A"]), subject="Retitled thread",
                  body=_opening(site["threads"]["A"]).body)

    for name in ("forum A", "front page", "All Forums", "Latest", "author's profile"):
        source, page = visit(urls[name])
        assert source == "miss" and "Retitled thread" in page, name
    for name in ("forum B", "forum C", "thread C"):
        assert cached(urls[name]), name


def test_a_post_hidden_by_a_jury_is_hidden_from_visitors_at_once(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    reply = ReplyFactory(parent=_opening(site["threads"]["A"]), author=site["writer"], body="You are all fools.")
    rule = alert_rule_create(slug="personal-attack", name="No personal attacks")
    MemberFactory.create_batch(8)
    alert = alert_create(alerter=site["third"], post=reply, rule=rule, rng=random.Random(1))
    warm(*urls.values())
    assert "You are all fools." in visit(urls["thread A"])[1]

    seats = alert.jury.seats.filter(is_replaced=False).select_related("juror")[: django_settings.FORUMS_JURY_VOTES_TO_HIDE]
    with django_capture_on_commit_callbacks(execute=True):
        for seat in seats:
            jury_vote(juror=seat.juror, jury=alert.jury, answer=JurySeat.Answer.CLEAR_BREAK, rng=random.Random(2))
    reply.refresh_from_db()
    assert reply.is_hidden

    source, page = visit(urls["thread A"])
    assert source == "miss" and "You are all fools." not in page and "hidden by a jury" in page
    source, page = visit(urls["writer's profile"])
    assert source == "miss" and "You are all fools." not in page.split('id="hidden-title"')[0]
    for name in ("forum B", "forum C", "thread B", "thread C"):
        assert cached(urls[name]), name


def test_a_moved_thread_leaves_one_forums_list_for_the_others(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    staff = MemberFactory()
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        thread_move(moderator=staff, thread=site["threads"]["A"], to_forum=site["forums"]["B"])

    source, page = visit(urls["forum A"])
    assert source == "miss" and "Thread in forum A" not in page
    source, page = visit(urls["forum B"])
    assert source == "miss" and "Thread in forum A" in page
    source, page = visit(urls["thread A"])
    assert source == "miss" and site["forums"]["B"].get_absolute_url() in page
    assert visit(urls["All Forums"])[0] == "miss"
    for name in ("forum C", "thread C"):
        assert cached(urls[name]), name


def test_a_locked_thread_is_marked_in_its_forum_and_the_moderation_log(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    staff = MemberFactory()
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    log = reverse("moderation:log")
    warm(*urls.values(), log)

    with django_capture_on_commit_callbacks(execute=True):
        thread_lock(moderator=staff, thread=site["threads"]["A"], lock=True, reason="Cooling off")

    source, page = visit(urls["thread A"])
    assert source == "miss" and "This thread is locked" in page
    source, page = visit(urls["forum A"])
    assert source == "miss" and "badge-locked" in page
    source, page = visit(log)
    assert source == "miss" and "Cooling off" in page
    for name in ("forum B", "thread B", "thread C"):
        assert cached(urls[name]), name


def test_recommendations_show_in_the_thread_and_for_opening_posts_in_the_lists(
    site, django_capture_on_commit_callbacks
):
    urls = site["urls"]
    reply = ReplyFactory(parent=_opening(site["threads"]["A"]), author=site["writer"])
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        recommendation_set(member=site["third"], post=reply, recommend=True)
    source, page = visit(urls["thread A"])
    assert source == "miss" and "1 recommendation" in page
    for name in ("forum A", "Greatest", "forum B", "thread B"):
        assert cached(urls[name]), name

    with django_capture_on_commit_callbacks(execute=True):
        recommendation_set(member=site["third"], post=_opening(site["threads"]["A"]), recommend=True)
    source, page = visit(urls["Greatest"])
    assert source == "miss" and "Thread in forum A" in page
    source, page = visit(urls["forum A"])
    assert source == "miss" and '<td class="num" data-label="Recs">1</td>' in page
    for name in ("forum B", "thread B", "thread C"):
        assert cached(urls[name]), name


def test_a_deleted_members_name_goes_from_every_page_that_showed_it(site, django_capture_on_commit_callbacks):
    """Names show in thread rows, reply indexes and logs as well as posts: the site goes."""
    urls = site["urls"]
    ReplyFactory(parent=_opening(site["threads"]["A"]), author=site["writer"])
    ReplyFactory(parent=_opening(site["threads"]["C"]), author=site["writer"])
    warm(*urls.values())
    version = page_cache.site_version()

    with django_capture_on_commit_callbacks(execute=True):
        member_delete(member=site["writer"], password=PASSWORD)

    assert page_cache.site_version() != version
    for name in ("thread A", "thread C", "forum A", "forum C", "front page", "Latest"):
        source, page = visit(urls[name])
        assert source == "miss" and "Wanda Writer" not in page and "deleted member" in page, name
    assert Client().get(urls["writer's profile"]).status_code == 404


def test_a_new_display_name_shows_wherever_the_member_does(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=site["author"], display_name="Alice Renamed")

    for name in ("thread A", "thread B", "forum A", "forum B", "front page", "Latest", "author's profile"):
        source, page = visit(urls[name])
        assert source == "miss" and "Alice Renamed" in page and "Alice Author" not in page, name


def test_a_profile_change_drops_the_pages_with_the_members_posts_not_the_lists(
    site, django_capture_on_commit_callbacks
):
    """Avatars and badges show in post headers and on the profile only."""
    urls = site["urls"]
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=site["author"], slogan="Always on topic")

    source, page = visit(urls["author's profile"])
    assert source == "miss" and "Always on topic" in page
    for name in ("thread A", "thread B"):
        assert visit(urls[name])[0] == "miss", name
    for name in ("thread C", "forum A", "forum B", "front page", "All Forums", "Latest"):
        assert cached(urls[name]), name


def test_preferences_nobody_else_sees_leave_pages_cached(site, django_capture_on_commit_callbacks):
    urls = site["urls"]
    warm(*urls.values())
    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=site["author"], layout="flat")
    assert all(cached(url) for url in urls.values())


def test_a_forum_renamed_in_the_admin_drops_every_page(site, django_capture_on_commit_callbacks):
    """Forum names are in every page's navigation and breadcrumbs: the admin bumps the site."""
    urls = site["urls"]
    staff = User.objects.create_superuser("admin", "admin@example.org", "x" * 16)
    admin = Client()
    admin.force_login(staff)
    forum = site["forums"]["C"]
    page = admin.get(reverse("admin:forums_forum_change", args=[forum.pk])).content.decode()
    assert 'name="name"' in page
    warm(*urls.values())

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("admin:forums_forum_change", args=[forum.pk]),
            {"name": "Forum Renamed", "slug": forum.slug, "kind": forum.kind, "section": forum.section_id,
             "position": forum.position, "purpose": forum.purpose, "rules": "", "hosts": []},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    for url in urls.values():
        assert visit(url)[0] == "miss", url


def test_a_members_own_view_never_fills_the_visitors_cache(site, client):
    url = site["urls"]["thread A"]
    client.force_login(site["third"])
    member_page = client.get(url).content.decode()
    assert site["third"].public_name in member_page

    source, page = visit(url)
    assert source == "miss" and site["third"].public_name not in page and "csrfmiddlewaretoken" not in page


# The mechanism itself, with a stand-in view. These tests commit (transactional_db), so
# a write's versions change as they would in production: when the write commits.


def _stand_in_view(render):
    """A view under THREAD that runs `render` while the page is made."""

    @page_cache.visitor_page(page_cache.THREAD)
    def view(request, pk):
        return HttpResponse(render(), content_type="text/html")

    return view


def _serve(view, path="/t/1/"):
    request = RequestFactory().get(path)
    return page_cache._serve(request, lambda request: view(request, pk=1), [page_cache.SITE, page_cache.thread(1)])


@pytest.fixture
def someone(transactional_db):
    return MemberFactory()


def _member_shown(someone) -> str:
    page_cache.shows(page_cache.member(someone.pk))
    return User.objects.get(pk=someone.pk).slogan


def test_a_write_during_a_render_keeps_that_page_out_of_the_cache(someone):
    def render_while_a_write_commits():
        slogan = _member_shown(someone)  # the member's row before the write
        member_update(member=someone, slogan="Changed meanwhile")
        return slogan

    view = _stand_in_view(render_while_a_write_commits)
    assert _serve(view)[page_cache.HEADER] == "miss"
    assert _serve(view)[page_cache.HEADER] == "miss"


def test_a_page_depends_on_the_members_it_shows(someone):
    other = MemberFactory()
    view = _stand_in_view(lambda: _member_shown(someone))
    assert _serve(view)[page_cache.HEADER] == "miss"
    assert _serve(view)[page_cache.HEADER] == "hit"

    member_update(member=other, slogan="Somebody else's slogan")
    assert _serve(view)[page_cache.HEADER] == "hit"
    member_update(member=someone, slogan="A new slogan")
    response = _serve(view)
    assert response[page_cache.HEADER] == "miss" and response.content == b"A new slogan"


def test_a_lost_version_means_a_new_render_never_an_old_page(someone):
    view = _stand_in_view(lambda: _member_shown(someone))
    _serve(view)
    assert _serve(view)[page_cache.HEADER] == "hit"

    # Evicted by Redis under memory pressure, or expired: it comes back as a new token.
    cache.delete(page_cache._version_key(page_cache.member(someone.pk)))
    assert _serve(view)[page_cache.HEADER] == "miss"
    cache.delete(page_cache._version_key(page_cache.thread(1)))
    assert _serve(view)[page_cache.HEADER] == "miss"
    assert _serve(view)[page_cache.HEADER] == "hit"
    # The write counter only guards renders: losing it loses no page, and writes go on.
    cache.delete(page_cache.WRITES_KEY)
    assert _serve(view)[page_cache.HEADER] == "hit"
    member_update(member=someone, slogan="Renamed")
    assert _serve(view)[page_cache.HEADER] == "miss"
    assert _serve(view)[page_cache.HEADER] == "hit"


def test_a_vote_and_the_closing_of_a_poll_drop_only_their_threads_pages(site, django_capture_on_commit_callbacks):
    """Visitors see a poll's results at once (results shown always here); other pages
    stay cached, lists included, since thread rows show no counts of polls."""
    from forums.models import PollOption
    from forums.polls import PollSpec, poll_vote
    from forums.services import thread_create
    from moderation.services import poll_close

    poll_thread = thread_create(
        forum=site["forums"]["A"], author=site["third"], title="Poll in forum A", body="Vote.",
        poll=PollSpec(question="Which one?", options=("This", "That"), results_shown="always"),
    )
    urls = {**site["urls"], "poll": poll_thread.get_absolute_url(), "poll all": poll_thread.get_view_all_url()}
    warm(*urls.values())
    assert "0 members have voted." in visit(urls["poll"])[1]

    with django_capture_on_commit_callbacks(execute=True):
        poll_vote(member=site["writer"], thread=poll_thread,
                  options=PollOption.objects.filter(poll=poll_thread.pk, text="This"))
    for name in ("poll", "poll all"):
        source, page = visit(urls[name])
        assert source == "miss" and "1 member has voted." in page and "1 vote (100%)" in page, name
    for name in ("forum A", "thread A", "front page", "Latest", "writer's profile"):
        assert cached(urls[name]), name

    staff = MemberFactory()
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        poll_close(moderator=staff, thread=poll_thread)
    source, page = visit(urls["poll"])
    assert source == "miss" and "This poll is closed." in page
    assert cached(urls["thread A"]) and cached(urls["forum A"])


class _VersionReads:
    """The cache, counting how often each page version is asked for."""

    def __init__(self, cache):
        self._cache, self.asked = cache, []

    def get_many(self, keys):
        self.asked += [key for key in keys if key.startswith("page-version:")]
        return self._cache.get_many(keys)

    def __getattr__(self, name):
        return getattr(self._cache, name)


@pytest.mark.parametrize("reader", ["member", "visitor"])
def test_a_page_asks_for_the_sites_version_once(site, reader, monkeypatch):
    """The header, the sponsor and the reply index are all keyed by the site's version:
    one read serves the whole request (with Redis, each read was a round trip)."""
    url = site["urls"]["thread A index"]
    client = Client()
    if reader == "member":
        client.force_login(site["third"])
    client.get(url)  # the versions' first tokens
    cache.delete(f"page:{url}")  # the visitor's page is rendered again
    reads = _VersionReads(cache)
    monkeypatch.setattr(page_cache, "cache", reads)
    response = client.get(url)

    assert response.status_code == 200 and "Thread in forum A" in response.content.decode()
    assert reads.asked.count(page_cache._version_key(page_cache.SITE)) == 1
    assert reads.asked.count(page_cache._version_key(page_cache.thread(site["threads"]["A"].pk))) == 1


def test_a_version_changed_during_a_request_is_read_again(someone):
    seen = []

    def view(request):
        seen.append(page_cache.site_version())
        assert page_cache.site_version() == seen[0]
        page_cache.changed(page_cache.SITE)  # outside a transaction: at once
        seen.append(page_cache.site_version())
        return HttpResponse("done")

    page_cache.visitor_page_cache(view)(RequestFactory().post("/t/1/"))

    assert seen[0] != seen[1] and seen[1] == page_cache.site_version()
