"""Thread pages assembled by forums.fragments: the parts of a post every reader sees
alike come from a cache shared by all members, the reader's own parts never do; the
post actions post through one form; and the pages stay small."""

import re
from datetime import UTC
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import member_update
from forums import fragments
from forums.fragments import ACTION_FORM, NAME, NUMBER, url_filler
from forums.models import Post
from forums.services import member_ignore_set, post_edit, recommendation_set
from moderation.services import post_hide
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _post_html(page: str, number: int) -> str:
    start = page.index(f'id="post-{number}"')
    return page[start:page.index("</article>", start)]


def _client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _post_fragment_count() -> int:
    cache = caches[settings.FORUMS_FRAGMENT_CACHE]
    if hasattr(cache, "_cache"):  # local memory
        return sum(":post:" in key for key in cache._cache)
    return len(cache.keys("post:*"))  # Redis


@pytest.fixture
def staff(db):
    member = MemberFactory()
    User.objects.filter(pk=member.pk).update(is_staff=True)
    member.refresh_from_db()
    return member


@pytest.fixture
def conversation(forum):
    """A thread by one member with replies by two others."""
    people = MemberFactory.create_batch(3)
    thread = ThreadFactory(forum=forum, author=people[0], body="The opening words.")
    opening = thread.posts.get(number=0)
    first = ReplyFactory(parent=opening, author=people[1], body="A first answer.")
    ReplyFactory(parent=first, author=people[2], body="An answer to the answer.")
    return thread, people


def test_shared_parts_are_rendered_once_for_every_reader(conversation):
    thread, people = conversation
    url = thread.get_view_all_url()
    first = _text(_client(people[0]).get(url))
    stored = _post_fragment_count()
    second = _text(_client(people[1]).get(url))

    assert stored >= 3  # the opening post and two replies
    assert _post_fragment_count() == stored  # the second reader found them all in the cache
    # The ★ is the reader's own (a member's own reply is no news to them), the rest alike.
    marker = re.compile(r'<span class="new-marker"[^>]*>★</span> ')
    for number in (0, 1, 2):
        header = re.search(r"<header class=\"post-header\">.*?</header>", _post_html(first, number), re.S)
        assert marker.sub("", header.group(0)) in marker.sub("", _post_html(second, number))


def test_an_edit_shows_at_once_though_the_post_is_cached(conversation, member_client):
    thread, people = conversation
    reply = thread.posts.get(number=1)
    member_client.get(thread.get_view_all_url())

    post_edit(editor=people[1], post=reply, body="A **better** answer.")
    page = _text(member_client.get(thread.get_view_all_url()))

    body = re.search(r'<div class="post-body">(.*?)</div>', _post_html(page, 1), re.S).group(1)
    assert body == "<p>A <strong>better</strong> answer.</p>"
    assert "Last edited" in _post_html(page, 1)


def test_hiding_a_cached_post_replaces_its_text_for_members_not_for_staff(conversation, member_client, staff):
    thread, people = conversation
    reply = thread.posts.get(number=1)
    member_client.get(thread.get_view_all_url())

    post_hide(staff=staff, post=reply, hide=True, reason="Rude")
    member_page = _text(member_client.get(thread.get_view_all_url()))
    staff_page = _text(_client(staff).get(thread.get_view_all_url()))

    assert "A first answer." not in member_page
    assert "This post was hidden by a jury of members." in _post_html(member_page, 1)
    assert "Staff: show the hidden text" in _post_html(staff_page, 1)
    assert "A first answer." in _post_html(staff_page, 1)
    # And back: the text returns for everyone.
    post_hide(staff=staff, post=reply, hide=False)
    assert "A first answer." in _post_html(_text(member_client.get(thread.get_view_all_url())), 1)


def test_a_new_recommendation_changes_the_cached_count(conversation, member, member_client):
    thread, people = conversation
    reply = thread.posts.get(number=1)
    assert "recommendation" not in _post_html(_text(member_client.get(thread.get_view_all_url())), 1)

    recommendation_set(member=member, post=reply, recommend=True)
    page = _text(member_client.get(thread.get_view_all_url()))

    assert '<p class="recommend-count">1 recommendation</p>' in _post_html(page, 1)
    assert ">Unrecommend</button>" in _post_html(page, 1)


def test_an_authors_new_name_reaches_their_cached_posts(conversation, member_client):
    thread, people = conversation
    member_client.get(thread.get_view_all_url())

    member_update(member=people[2], display_name="Renamed Person")
    page = _text(member_client.get(thread.get_view_all_url()))

    assert "Renamed Person" in _post_html(page, 2)


def test_a_members_own_actions_are_never_served_to_another(conversation):
    thread, people = conversation
    author, other = people[1], people[2]
    edit_url = reverse("forums:post-edit", args=[thread.pk, 1])
    delete_url = reverse("forums:post-delete", args=[thread.pk, 1])

    own = _post_html(_text(_client(author).get(thread.get_view_all_url())), 1)
    theirs = _post_html(_text(_client(other).get(thread.get_view_all_url())), 1)
    visitor = _post_html(_text(Client().get(thread.get_view_all_url())), 1)

    assert edit_url in own and delete_url in own
    assert ">Recommend</button>" not in own and "Ignore " not in own
    assert edit_url not in theirs and delete_url not in theirs
    assert ">Recommend</button>" in theirs and f"Ignore {author.public_name}" in theirs
    # A visitor's only action is the way to the reply form, through the login page.
    reply_url = reverse("forums:reply-create", args=[thread.pk, 1])
    assert f'<ul class="post-actions" aria-label="Actions"><li><a href="{reply_url}">Reply</a></li></ul>' in visitor
    assert edit_url not in visitor and delete_url not in visitor and "Recommend" not in visitor


def test_actions_kept_for_one_reader_follow_the_next_readers_standing(conversation, member, staff):
    """A process keeps posts' actions and shares them between readers who stand alike
    to a post; a reader who recommended it, ignores its author or is staff gets their
    own, whichever of them reads first."""
    thread, people = conversation
    url = thread.get_view_all_url()
    recommendation_set(member=member, post=thread.posts.get(number=1), recommend=True)
    member_ignore_set(member=member, other=people[2], ignore=True)
    readers = {"member": member, "plain": people[0], "staff": staff}
    for order in (["plain", "member", "staff"], ["member", "staff", "plain"]):
        fragments.forget_process_copies()
        pages = {who: _text(_client(readers[who]).get(url)) for who in order}

        assert ">Unrecommend</button>" in _post_html(pages["member"], 1)
        assert ">Recommend</button>" in _post_html(pages["plain"], 1), order
        assert f"Stop ignoring {people[2].public_name}" in _post_html(pages["member"], 2)
        assert f"Ignore {people[2].public_name}" in _post_html(pages["plain"], 2), order
        assert ">Hide</button>" in _post_html(pages["staff"], 1)
        assert ">Hide</button>" not in _post_html(pages["plain"], 1), order
        # The opening post's author may edit it; a member reading it may not.
        edit_url = reverse("forums:post-edit", args=[thread.pk, 0])
        assert edit_url in _text(_client(people[0]).get(url)) and edit_url not in pages["member"]


def test_new_markers_and_ignoring_belong_to_the_reader(conversation, member, member_client):
    thread, people = conversation
    member_ignore_set(member=member, other=people[2], ignore=True)
    member_client.post(reverse("forums:forum-mark-read", args=[thread.forum.slug]))
    ReplyFactory(parent=thread.posts.get(number=0), author=people[1], body="Fresh news.")

    page = _text(member_client.get(thread.get_view_all_url()))
    other = _text(_client(people[0]).get(thread.get_view_all_url()))

    assert re.search(r'class="post-subject"><span class="new-marker"[^>]*>★</span> <a href="#post-3">',
                     _post_html(page, 3))
    assert 'class="new-marker"' not in _post_html(page, 1)
    assert "You are ignoring" in _post_html(page, 2)
    # The other member's read state and ignores are their own.
    assert "You are ignoring" not in other
    assert "An answer to the answer." in _post_html(other, 2)


class _Buttons(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.buttons, self.tokens = {}, [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms[attrs.get("id")] = attrs
        if tag == "button" and attrs.get("form") == ACTION_FORM:
            self.buttons.append(attrs)
        if tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self.tokens += 1


def _buttons(page: str) -> _Buttons:
    parser = _Buttons()
    parser.feed(page)
    return parser


def test_post_actions_post_through_one_form_with_one_token(conversation, member, staff):
    thread, people = conversation
    for number in range(3, 12):
        ReplyFactory(parent=thread.posts.get(number=0), author=people[number % 3])
    page = _text(_client(staff).get(thread.get_view_all_url()))
    parsed = _buttons(page)

    assert parsed.forms[ACTION_FORM]["method"] == "post"
    expected = {
        (reverse(view, args=[thread.pk, number]), name)
        for number in range(12)
        for view, name in [("forums:post-recommend", "recommend"), ("moderation:post-hide", "hide")]
    } | {(reverse("forums:member-ignore", args=[person.username]), "ignore") for person in people} | {
        (reverse("forums:thread-trash", args=[thread.pk]), "trash")
    }
    assert {(button["formaction"], button["name"]) for button in parsed.buttons} == expected
    # One token for all the posts' buttons, whatever their number: the page's other
    # forms are Log out, Follow, and the host tools' Lock and Pin.
    assert parsed.tokens == 5
    assert 'name="next"' in page.split(f'id="{ACTION_FORM}"')[1].split("</form>")[0]


def _row_and_more(post_html: str) -> tuple[str, str]:
    """A post's actions: those in its row, and those behind its "More" disclosure."""
    actions = re.search(r'<ul class="post-actions"[^>]*>(.*?)</ul>', post_html, re.S).group(1)
    more = re.search(r"<details><summary>More</summary>(.*?)</details>", actions, re.S)
    return (actions[:more.start()] if more else actions), (more.group(1) if more else "")


def test_rare_and_drastic_actions_wait_behind_more(conversation, member, staff):
    thread, people = conversation
    url = thread.get_view_all_url()
    page = _text(_client(member).get(url))

    row, more = _row_and_more(_post_html(page, 1))
    assert ">Reply</a>" in row and ">Quote</a>" in row and ">Recommend</button>" in row
    assert ">Alert</a>" in more and f">Ignore {people[1].public_name}</button>" in more
    assert "Alert" not in row and "Ignore" not in row
    # Trashing is the thread's: under the opening post only, saying what it does.
    opening_row, opening_more = _row_and_more(_post_html(page, 0))
    assert ">Trash: hide this thread from my lists</button>" in opening_more
    assert "Trash" not in _post_html(page, 1) and "Trash" not in opening_row
    # The author edits from the row and deletes from the menu; staff hide from the menu.
    own_row, own_more = _row_and_more(_post_html(_text(_client(people[1]).get(url)), 1))
    assert ">Edit</a>" in own_row and ">Delete</a>" in own_more and "Delete" not in own_row
    staff_row, staff_more = _row_and_more(_post_html(_text(_client(staff).get(url)), 1))
    assert ">Hide</button>" in staff_more and "Hide" not in staff_row


def test_a_trashed_thread_is_restored_from_the_thread_tools(conversation, member_client):
    thread, _people = conversation
    url = thread.get_absolute_url()
    response = member_client.post(reverse("forums:thread-trash", args=[thread.pk]), {"trash": "1", "next": url})
    assert response["Location"] == url

    page = _text(member_client.get(url))
    assert "Thread trashed: it no longer shows in your lists." in page
    assert "hide this thread from my lists" not in page
    restore = [button for button in _buttons(page).buttons if button["name"] == "trash"]
    assert restore == [{"form": ACTION_FORM, "formaction": reverse("forums:thread-trash", args=[thread.pk]),
                        "name": "trash", "value": "0", "class": "button button-secondary"}]
    # One token for the page: the restore button posts through the action form.
    assert _buttons(page).tokens == 3  # Log out, Follow and the action form


def test_recommending_from_the_action_form_returns_to_the_post(conversation, member_client):
    thread, _people = conversation
    page = _text(member_client.get(thread.get_view_all_url()))
    token = re.search(rf'id="{ACTION_FORM}"[^>]*>.*?name="csrfmiddlewaretoken" value="([^"]+)"', page, re.S).group(1)

    response = member_client.post(
        reverse("forums:post-recommend", args=[thread.pk, 2]),
        {"csrfmiddlewaretoken": token, "next": thread.get_view_all_url(), "recommend": "1"},
    )

    assert response["Location"] == f"{thread.get_view_all_url()}#post-2"
    assert Post.objects.get(thread=thread, number=2).recommendation_count == 1


def test_a_member_view_all_page_of_50_replies_stays_under_100_kb(forum, member):
    people = MemberFactory.create_batch(4)
    thread = ThreadFactory(forum=forum, author=people[0], body="Opening. " * 60)
    opening = thread.posts.get(number=0)
    # About the length of the demo data's replies (one to four paragraphs).
    body = "\n\n".join(["The budget vote is close and the county has to decide by Friday. " * 3] * 3)
    parent = opening
    for number in range(50):
        parent = ReplyFactory(parent=parent if number % 3 else opening, author=people[number % 4], body=body)
    member_ignore_set(member=member, other=people[3], ignore=True)
    recommendation_set(member=member, post=opening, recommend=True)

    page = _client(member).get(thread.get_view_all_url()).content

    assert page.count(b'class="post-body"') == 51
    assert len(page) < 100 * 1024, len(page)


@pytest.mark.parametrize("username", ["ann", "zoë.müller", "a+b@c-d_e"])
def test_url_filler_makes_what_reverse_makes(username):
    profile = url_filler("members:member-detail", NAME)
    jump = url_filler("forums:post-jump", NUMBER, NUMBER)
    reply = url_filler("forums:reply-create", 42, NUMBER)

    assert profile(username) == reverse("members:member-detail", args=[username])
    assert jump(7, 3) == reverse("forums:post-jump", args=[7, 3])
    assert reply(0) == reverse("forums:reply-create", args=[42, 0])


def test_time_zone_is_part_of_the_shared_parts(conversation, member, member_client):
    thread, people = conversation
    utc = _text(Client().get(thread.get_view_all_url()))
    member_update(member=member, time_zone="Asia/Tokyo")
    tokyo = _text(member_client.get(thread.get_view_all_url()))

    created = thread.posts.get(number=1).created_at
    assert f'datetime="{timezone.localtime(created, UTC).isoformat()}"' in _post_html(utc, 1)
    assert "+09:00" in re.search(r'<time datetime="([^"]+)"', _post_html(tokyo, 1)).group(1)


def test_process_copies_of_fragments_expire_and_stay_bounded(monkeypatch):
    """A process keeps its copies of fragments only as long as the cache would, and
    never more than TEXT characters of them, however the text is split into copies (a
    worker's memory stays flat)."""
    copies = fragments._ProcessCopies()
    clock = [1000.0]
    monkeypatch.setattr(fragments.time, "monotonic", lambda: clock[0])
    copies.set_many({"a": "one", "b": ("two", ["three"])}, 60)

    assert copies.get_many(["a", "b", "c"]) == {"a": "one", "b": ("two", ["three"])}
    assert copies._text == len("onetwothree")
    clock[0] += 61
    assert copies.get_many(["a", "b"]) == {}

    copies.set_many({"a": "one"}, 60)  # a copy made again is counted once
    assert copies._text == len("onetwothree")

    monkeypatch.setattr(copies, "TEXT", 1000)
    copies.set_many({f"post {n}": ("x" * 90, "y" * 10) for n in range(25)}, 60)
    assert copies._text <= 1000
    assert copies.get_many(["post 24"]) == {"post 24": ("x" * 90, "y" * 10)}
    copies.set_many({"a long one": "z" * 1000}, 60)
    assert copies._text == 1000
    assert copies.get_many(["post 24", "a long one"]) == {"a long one": "z" * 1000}


def test_a_post_read_from_another_process_is_copied_and_its_edit_still_shows(conversation):
    """Copies are keyed by what the post shows: the edited post is a new key, so no
    process shows its old copy."""
    thread, people = conversation
    url = thread.get_view_all_url()
    assert "A first answer." in _text(_client(people[0]).get(url))
    fragments.forget_process_copies()  # as another worker, which finds them in the cache only
    assert "A first answer." in _text(_client(people[2]).get(url))

    reply = thread.posts.get(number=1)
    post_edit(editor=people[1], post=reply, body="An answer, edited.")

    page = _text(_client(people[2]).get(url))
    assert "<p>An answer, edited.</p>" in page and "<p>A first answer.</p>" not in page


def test_post_keys_are_worked_out_once_per_process_and_stay_bounded(conversation, monkeypatch):
    """A page read again takes its posts' keys from what the process worked out; the
    process keeps no more than _POST_KEYS.size of them, and an edit still shows."""
    thread, people = conversation
    url = thread.get_view_all_url()
    fragments.forget_process_copies()
    digests = []
    blake2b = fragments.hashlib.blake2b
    monkeypatch.setattr(fragments.hashlib, "blake2b", lambda *args, **kwargs: digests.append(1) or blake2b(*args, **kwargs))

    reader = _client(people[0])
    assert "<p>A first answer.</p>" in _text(reader.get(url))
    worked_out = len(digests)
    assert "<p>A first answer.</p>" in _text(reader.get(url))
    assert worked_out >= 3 and len(digests) == worked_out  # the three posts' keys all known

    monkeypatch.setattr(fragments._POST_KEYS, "size", 2)
    post_edit(editor=people[1], post=thread.posts.get(number=1), body="An answer, edited.")
    page = _text(_client(people[2]).get(url))
    assert "<p>An answer, edited.</p>" in page and "<p>A first answer.</p>" not in page
    assert len(fragments._POST_KEYS) <= 2


def _thread_row(page: str, thread) -> str:
    start = page.rindex("<tr", 0, page.index(f'class="thread-title" href="/t/{thread.pk}/'))
    return page[start:page.index("</tr>", start)]


def _kept_thread_rows() -> int:
    cache = caches[settings.FORUMS_FRAGMENT_CACHE]
    if hasattr(cache, "_cache"):  # local memory
        return sum(":thread-rows:" in key for key in cache._cache)
    return len(cache.keys("thread-rows:*"))  # Redis


def test_kept_thread_rows_carry_each_readers_own_new_marks(forum, member):
    """A forum's rows are made once for every reader; what is new is each reader's."""
    people = MemberFactory.create_batch(3)
    threads = [ThreadFactory(forum=forum, author=person) for person in people]
    for n, thread in enumerate(threads):
        for _ in range(n + 1):
            ReplyFactory(parent=thread.posts.get(number=0), author=people[(n + 1) % 3])
    reader = _client(member)
    reader.get(threads[0].get_absolute_url())  # seen, with its one reply
    ReplyFactory(parent=threads[0].posts.get(number=0), author=people[2])  # one more since
    reader.post(reverse("forums:forum-mark-read", args=[forum.slug]))
    ReplyFactory(parent=threads[1].posts.get(number=0), author=people[0])  # new since the mark

    visited = _text(reader.get(forum.get_absolute_url()))
    fresh = _text(_client(people[0]).get(forum.get_absolute_url()))

    assert _kept_thread_rows() == 1
    assert re.search(r'<tr class="is-unread">.*3 replies <span class="badge badge-new">1 new</span>',
                     _thread_row(visited, threads[1]))
    assert "badge-new" not in _thread_row(visited, threads[2]) and "is-unread" not in _thread_row(visited, threads[2])
    # The other member opened none of them: each is new to them, in whole.
    for thread in threads:
        assert '<span class="badge badge-new">New</span>' in _thread_row(fresh, thread)
        assert _thread_row(fresh, thread).startswith('<tr class="is-unread">')


def test_thread_rows_keys_are_worked_out_once_per_process_and_stay_bounded(forum, member, monkeypatch):
    """A forum's page read again takes its rows' key from what the process worked out
    (no digest of the rows); with room for one key, a reply still shows at once."""
    people = MemberFactory.create_batch(3)
    threads = [ThreadFactory(forum=forum, author=person) for person in people]
    fragments._ROWS_KEYS.clear()
    digested = []
    digest = fragments._digested
    monkeypatch.setattr(fragments, "_digested", lambda *args: digested.append(args[0]) or digest(*args))
    readers = [_client(member), _client(people[0])]

    for reader in readers:
        assert "0 replies" in _thread_row(_text(reader.get(forum.get_absolute_url())), threads[1])
    assert digested.count("thread-rows") == 1  # the second reader's rows: the same key

    monkeypatch.setattr(fragments._ROWS_KEYS, "size", 1)
    ReplyFactory(parent=threads[1].posts.get(number=0), author=people[2])
    for reader in readers:
        assert "1 reply" in _thread_row(_text(reader.get(forum.get_absolute_url())), threads[1])
    assert digested.count("thread-rows") == 2 and len(fragments._ROWS_KEYS) <= 1


def test_kept_thread_rows_show_a_members_link_preference_and_a_reply_at_once(forum, member):
    thread = ThreadFactory(forum=forum)
    reader = _client(member)
    assert f'href="{thread.get_absolute_url()}"' in _thread_row(_text(reader.get(forum.get_absolute_url())), thread)

    member_update(member=member, thread_view="all")
    row = _thread_row(_text(reader.get(forum.get_absolute_url())), thread)
    assert f'href="{thread.get_view_all_url()}"' in row and "0 replies" in row

    ReplyFactory(parent=thread.posts.get(number=0))
    assert "1 reply" in _thread_row(_text(reader.get(forum.get_absolute_url())), thread)
