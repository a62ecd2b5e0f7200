"""A thread's reply index is kept for every member, as long as visitors' pages are, and
shows each write at once; each reader's own marks are added to the kept lines."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import member_update
from forums.services import member_ignore_set, post_delete, post_edit, reply_create
from tests.factories import MemberFactory


@pytest.fixture
def page_cache(settings):
    settings.FORUMS_PAGE_CACHE_SECONDS = 60


def _index(page: str) -> str:
    return page.split('<ul class="reply-tree">', 1)[1].split('</section>', 1)[0]


def _get(client, thread) -> tuple[str, int]:
    """The page's reply index, and how many of the page's queries read replies in tree order."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(thread.get_absolute_url()).content.decode()
    return _index(page), sum('"forums_post"."tree_path"' in query["sql"] for query in queries)


def test_the_index_is_kept_and_shows_every_write_at_once(
    member_client, thread, opening_post, page_cache, django_capture_on_commit_callbacks
):
    authors = MemberFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        replies = [
            reply_create(author=author, parent=opening_post, body="Text.", subject=f"Point {n}")
            for n, author in enumerate(authors)
        ]
    first, reads = _get(member_client, thread)
    assert reads == 1 and all(f"Point {n}" in first for n in range(3))
    again, reads = _get(member_client, thread)
    # The same lines, without the ★ marks: the first visit saw those replies.
    assert reads == 0 and again == re.sub(r'<span class="new-marker"[^>]*>★</span> ', "", first) != first

    with django_capture_on_commit_callbacks(execute=True):
        reply_create(author=authors[0], parent=replies[1], body="More.", subject="A late answer")
    index, reads = _get(member_client, thread)
    assert reads == 1 and "A late answer" in index

    with django_capture_on_commit_callbacks(execute=True):
        post_edit(editor=authors[2], post=replies[2], body="Text, edited.", subject="Point two, revised")
    assert "Point two, revised" in _get(member_client, thread)[0]

    with django_capture_on_commit_callbacks(execute=True):
        post_delete(member=authors[0], post=replies[0])
    assert "[deleted]" in _get(member_client, thread)[0]

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=authors[1], display_name="Renamed Writer")
    index, reads = _get(member_client, thread)
    assert reads == 1 and "Renamed Writer" in index


def test_each_reader_gets_their_own_marks_on_the_kept_lines(
    client, member, thread, opening_post, page_cache, django_capture_on_commit_callbacks
):
    loud, calm = MemberFactory(display_name="Loud Poster"), MemberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for author in (loud, calm, loud):
            reply_create(author=author, parent=opening_post, body="Text.", subject=f"By {author.username}")
    member_ignore_set(member=member, other=loud, ignore=True)

    reader = MemberFactory()
    client.force_login(reader)
    plain, _reads = _get(client, thread)
    assert "You are ignoring" not in plain and plain.count("is-highlighted") == 0
    assert len(re.findall(r'<li id="index-\d+">\s*<span class="new-marker"', plain)) == 3  # all new to them

    client.force_login(member)
    index, reads = _get(client, thread)
    assert reads == 0  # the lines the first reader's page kept
    assert index.count("You are ignoring Loud Poster") == 2 and f"By {calm.username}" in index
    highlighted = _index(client.get(thread.get_absolute_url(), {"highlight": "newest"}).content.decode())
    assert highlighted.count('class="is-highlighted"') == 3
