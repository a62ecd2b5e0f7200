import pytest
from django.core.exceptions import PermissionDenied

from forums.models import Forum, Post, Thread
from forums.permissions import THREAD_LOCKED
from forums.services import reply_create, thread_create
from tests.factories import MemberFactory, ReplyFactory


def test_thread_create_counts_thread_and_opening_post(forum, member):
    thread = thread_create(forum=forum, author=member, title="A *title* <b>", body="Hello **world**")

    forum.refresh_from_db()
    member.refresh_from_db()
    opening_post = thread.posts.get()
    assert (forum.thread_count, forum.post_count, forum.last_post) == (1, 1, opening_post)
    assert member.post_count == 1
    assert opening_post.number == 0 and opening_post.parent is None
    assert opening_post.body_html == "<p>Hello <strong>world</strong></p>"
    assert thread.title == "A *title* <b>"  # titles are plain text, escaped when shown
    assert thread.slug == "a-title-b"


def test_thread_create_cuts_long_slugs_at_a_word(forum, member):
    thread = thread_create(forum=forum, author=member, title="word " * 29, body="x")
    assert len(thread.slug) <= 80 and thread.slug.endswith("word")


def test_reply_create_numbers_replies_and_updates_counters(thread, opening_post, other_member):
    first = reply_create(author=other_member, parent=opening_post, body="First")
    second = reply_create(author=thread.author, parent=first, body="Second")

    thread.refresh_from_db()
    thread.forum.refresh_from_db()
    other_member.refresh_from_db()
    assert [first.number, second.number] == [1, 2]
    assert (thread.reply_count, thread.last_poster, thread.last_activity_at) == (
        2, thread.author, second.created_at,
    )
    assert (thread.forum.post_count, thread.forum.last_post) == (3, second)
    assert other_member.post_count == 1


def test_reply_tree_order_follows_the_conversation(thread, opening_post):
    a = ReplyFactory(parent=opening_post)
    b = ReplyFactory(parent=opening_post)
    a1 = ReplyFactory(parent=a)
    a1x = ReplyFactory(parent=a1)
    a2 = ReplyFactory(parent=a)

    ordered = list(Post.objects.for_reply_index(thread))

    assert [post.pk for post in ordered] == [a.pk, a1.pk, a1x.pk, a2.pk, b.pk]
    assert [post.depth for post in ordered] == [1, 2, 3, 2, 1]


def test_reply_nesting_stops_at_max_depth(thread, opening_post):
    parent = opening_post
    for _ in range(Post.MAX_DEPTH + 2):
        parent = ReplyFactory(parent=parent)
    assert parent.depth == Post.MAX_DEPTH
    assert len(parent.tree_path) <= Post._meta.get_field("tree_path").max_length


def test_reply_subject_defaults_to_the_first_words(opening_post):
    reply = ReplyFactory(parent=opening_post, body="I **really** think this is a very good point indeed, friends")
    assert reply.subject == "I really think this is a very good…"


def test_reply_subject_defaults_to_re_title_without_text(thread, opening_post):
    reply = ReplyFactory(parent=opening_post, body="---")
    assert reply.subject == f"Re: {thread.title}"


QUOTE_OF_ALICE = "> **Alice wrote:**\n>\n> Agreed, but the numbers are old.\n>\n> > Older words she quoted\n\n"


def test_reply_subject_defaults_to_own_words_not_the_quote(opening_post):
    reply = ReplyFactory(parent=opening_post, body=QUOTE_OF_ALICE + "New figures came out today")
    assert reply.subject == "New figures came out today"


def test_reply_subject_skips_quotes_anywhere_in_the_body(opening_post):
    body = "Two points.\n\n> first quoted line\n\nAnd a second one."
    reply = ReplyFactory(parent=opening_post, body=body)
    assert reply.subject == "Two points. And a second one."


def test_reply_subject_of_a_bare_quote_is_re_parent_subject(opening_post):
    parent = ReplyFactory(parent=opening_post, subject="Numbers are old")
    reply = ReplyFactory(parent=parent, body=QUOTE_OF_ALICE)
    assert reply.subject == "Re: Numbers are old"


def test_reply_subject_does_not_stack_re(opening_post):
    parent = ReplyFactory(parent=opening_post, body="> only a quote")
    reply = ReplyFactory(parent=parent, body="> and another quote")
    assert parent.subject == f"Re: {opening_post.subject}"
    assert reply.subject == f"Re: {opening_post.subject}"


def test_reply_subject_does_not_repeat_a_hidden_parents_subject(thread, opening_post):
    parent = ReplyFactory(parent=opening_post, subject="Something a jury hid")
    Post.objects.filter(pk=parent.pk).update(is_hidden=True)
    parent.refresh_from_db()
    reply = ReplyFactory(parent=parent, body="> Something a jury hid")
    assert reply.subject == f"Re: {thread.title}"


def test_reply_create_rejects_locked_thread(thread, opening_post, other_member):
    Thread.objects.filter(pk=thread.pk).update(is_locked=True)

    with pytest.raises(PermissionDenied, match=THREAD_LOCKED):
        reply_create(author=other_member, parent=opening_post, body="Too late")

    thread.refresh_from_db()
    assert thread.reply_count == 0
    assert Forum.objects.get(pk=thread.forum_id).post_count == 1


def test_inactive_member_cannot_post(forum):
    inactive = MemberFactory()
    type(inactive).objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()

    with pytest.raises(PermissionDenied):
        thread_create(forum=forum, author=inactive, title="Hi", body="Hello")
    assert not Thread.objects.exists()
