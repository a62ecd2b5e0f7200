"""The rows of All Forums and of the front page's featured forums are kept for every
reader, as long as visitors' pages are: each write that changes them shows at once, and
each member gets them without the forums they trashed."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import member_update
from forums.services import forum_create, forum_trash_set, reply_create, thread_create
from tests.factories import ForumFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_cache(settings):
    settings.FORUMS_PAGE_CACHE_SECONDS = 60


def _row(page: str, forum) -> str:
    page = page.split("<main", 1)[1]  # not the navigation's link
    start = page.index(f'href="{forum.get_absolute_url()}"')
    return page[start:page.index("</tr>", start)]


def _get(client, url) -> tuple[str, int]:
    """The page, and how many of its queries joined forums to their last posts."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    return page, sum('"forums_forum"."last_post_id"' in query["sql"] for query in queries)


def test_all_forums_rows_are_kept_and_show_every_write_at_once(
    member_client, page_cache, django_capture_on_commit_callbacks
):
    quiet, busy = ForumFactory(name="Quiet forum"), ForumFactory(name="Busy forum")
    author = MemberFactory(display_name="Ada Author")
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_create(forum=busy, author=author, title="The first thread", body="Hello.")
    url = reverse("forums:forum-index")
    page, reads = _get(member_client, url)
    assert reads == 1 and "The first thread" in _row(page, busy) and "Ada Author" in _row(page, busy)
    again, reads = _get(member_client, url)
    assert reads == 0 and _row(again, busy) == _row(page, busy)

    with django_capture_on_commit_callbacks(execute=True):
        thread_create(forum=quiet, author=MemberFactory(), title="Quiet no more", body="Hi.")
    page, reads = _get(member_client, url)
    assert reads == 1 and "Quiet no more" in _row(page, quiet)

    with django_capture_on_commit_callbacks(execute=True):
        reply_create(author=MemberFactory(display_name="Rita Replier"), parent=thread.posts.get(number=0),
                     body="An answer.")
    row = _row(_get(member_client, url)[0], busy)
    assert "Rita Replier" in row and "Ada Author" not in row

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=author, display_name="Ada Renamed")
        reply_create(author=author, parent=thread.posts.get(number=0), body="Me again.")
    assert "Ada Renamed" in _row(_get(member_client, url)[0], busy)

    with django_capture_on_commit_callbacks(execute=True):
        new = forum_create(name="Brand new forum", slug="brand-new", kind="main", section=None, position=0)
    page, reads = _get(member_client, url)
    assert reads == 1 and new.get_absolute_url() in page


def test_each_member_gets_the_kept_rows_without_the_forums_they_trashed(
    member_client, member, page_cache, django_assert_num_queries
):
    kept, trashed = ForumFactory(name="Kept forum"), ForumFactory(name="Trashed forum")
    forum_trash_set(member=member, forum=trashed, trash=True)
    other = Client()
    other.force_login(MemberFactory())
    url = reverse("forums:forum-index")
    page, reads = _get(other, url)
    assert reads == 1 and "Trashed forum" in page and "Kept forum" in page

    member_client.get(url)  # the header, for this member
    # The session, the member and the forums they trashed: rows and sections are kept.
    with django_assert_num_queries(3):
        page = member_client.get(url).content.decode()
    assert kept.get_absolute_url() in page and trashed.get_absolute_url() not in page
    assert trashed.get_absolute_url() in _get(other, url)[0]
    assert trashed.get_absolute_url() in Client().get(url).content.decode()


def test_the_front_pages_featured_forums_are_kept_and_follow_writes_and_trash(
    member_client, member, page_cache, django_capture_on_commit_callbacks
):
    featured = ForumFactory(name="Featured forum", is_featured=True)
    other = ForumFactory(name="Another featured forum", is_featured=True)
    url = reverse("forums:home")
    assert "Featured forum" in _get(member_client, url)[0]
    assert _get(member_client, url)[1] == 0

    with django_capture_on_commit_callbacks(execute=True):
        thread_create(forum=featured, author=MemberFactory(), title="News from the front", body="Hi.")
    page, reads = _get(member_client, url)
    assert reads == 1 and "News from the front" in _row(page, featured)

    forum_trash_set(member=member, forum=featured, trash=True)
    page = _get(member_client, url)[0].split("<main", 1)[1]
    assert featured.get_absolute_url() + '"' not in page and other.get_absolute_url() in page


def test_a_process_keeps_one_copy_of_the_rows_whatever_the_writes(
    member_client, page_cache, django_capture_on_commit_callbacks
):
    # Each write makes new versions, so a new key: copies kept per key would pile up,
    # 115 rows for each write, in every app process.
    from forums import fragments

    forum, author = ForumFactory(), MemberFactory()
    url = reverse("forums:forum-index")
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            thread_create(forum=forum, author=author, title=f"Thread {n}", body="Hello.")
        assert f"Thread {n}" in _row(member_client.get(url).content.decode(), forum)
    assert list(fragments._NEWEST) == ["all-forums"]
    assert not [key for key in fragments._COPIES._copies if key.startswith("lists:")]
