"""Edit history (issue 18, item 8): each version shows its changes from the one before,
words inserted and deleted marked with <ins> and <del>, worked out from the plain text a
member wrote, never from the HTML made from it."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from forums.history import word_diff
from forums.services import post_edit
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

pytestmark = pytest.mark.django_db


def _history(client, post) -> str:
    response = client.get(reverse("forums:post-history", args=[post.thread_id, post.number]))
    assert response.status_code == 200
    return response.content.decode()


def _section(page: str, number: int) -> str:
    start = page.index(f'aria-labelledby="version-{number}"')
    return page[start:page.index("</section>", start)]


def _changes(page: str, number: int) -> str:
    return re.search(r'<div class="diff">(.*?)</div>', _section(page, number), re.S).group(1)


def test_word_diff_marks_words_inserted_and_deleted():
    assert word_diff("The quick brown fox", "The slow brown fox jumps") == (
        "The <del>quick</del><ins>slow</ins> brown fox<ins> jumps</ins>"
    )
    # Changes parted by a space read as one phrase; line breaks are kept.
    assert word_diff("one two three\n\nfour", "one 2 3\n\nfour") == "one <del>two three</del><ins>2 3</ins>\n\nfour"
    assert word_diff("same", "same") == "same"


def test_word_diff_escapes_every_word():
    changes = word_diff('Say "hi" & <b>bye</b>', 'Say "hi" & <script>alert(1)</script>')
    assert changes == (
        "Say &quot;hi&quot; &amp; <del>&lt;b&gt;bye&lt;/b&gt;</del><ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>"
    )


def test_history_shows_each_versions_changes_from_the_plain_text(client):
    author = MemberFactory()
    thread = ThreadFactory(author=author, title="Snow days", body="The schools close when it snows.")
    opening = thread.posts.get(number=0)
    post_edit(editor=author, post=opening, body="The schools close when it **really** snows.")
    post_edit(editor=author, post=opening, subject="Snow days and buses",
              body="The schools and buses stop when it **really** snows.")

    page = _history(client, opening)

    assert "Version 3 (current)" in page and "Version 2" in page and "Version 1 (first)" in page
    # Worked out from the Markdown: the member's ** show as they typed them.
    assert _changes(page, 2) == "The schools close when it <ins>**really** </ins>snows."
    assert _changes(page, 3) == (
        "The schools <del>close</del><ins>and buses stop</ins> when it **really** snows."
    )
    assert "Snow days<ins> and buses</ins>" in _section(page, 3)
    assert 'class="diff"' not in _section(page, 1)  # the first version has nothing to compare with
    # Each version as posted is there too, made by the one pipeline.
    assert "<strong>really</strong>" in _section(page, 2)
    assert "Changes from version 2" in _section(page, 3)


def test_a_version_with_html_shows_as_text(client):
    author = MemberFactory()
    thread = ThreadFactory(author=author, body="Plain words first.")
    reply = ReplyFactory(parent=thread.posts.get(number=0), author=author, body="Nothing yet.")
    post_edit(editor=author, post=reply, body='<script>alert("x")</script> <img src=x onerror=alert(1)> done')

    changes = _changes(_history(client, reply), 2)

    assert "<script>" not in changes and "<img" not in changes
    assert changes == (
        "<del>Nothing yet.</del><ins>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; "
        "&lt;img src=x onerror=alert(1)&gt; done</ins>"
    )


def test_history_query_count(client, django_assert_num_queries):
    """Three earlier versions by the author and by two staff members: the count does
    not grow with the versions."""
    author = MemberFactory()
    staff = [MemberFactory() for _ in range(2)]
    User.objects.filter(pk__in=[member.pk for member in staff]).update(is_staff=True)
    thread = ThreadFactory(author=author, body="Version one.")
    opening = thread.posts.get(number=0)
    for editor, body in [(author, "Version two."), (User.objects.get(pk=staff[0].pk), "Version three."),
                         (User.objects.get(pk=staff[1].pk), "Version four.")]:
        post_edit(editor=editor, post=opening, body=body)
    url = reverse("forums:post-history", args=[thread.pk, 0])

    with django_assert_num_queries(6):  # header 3, sponsor, the post, its revisions
        page = Client().get(url).content.decode()
    assert page.count('class="diff"') == 3
