"""Counted phrases say "1 reply" and "2 replies": every page that counts something is
rendered with 0, 1 and 2 of it, and no page says "1 replies" (or "1 jurors", ...)."""

import random
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from config.ratelimit import PostingPaused, minutes_phrase, seconds_phrase
from conversations.services import conversation_create, message_create
from forums.services import recommendation_set, reply_create, thread_visit_record
from moderation.models import JurySeat
from moderation.services import alert_create, alert_rule_create, jury_vote
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory

NOUNS = (
    "replies|posts|messages|recommendations|jurors|seconds|minutes|hours|days|links|"
    "threads|members|conversations|votes|forums"
)
# "1 replies", but not "21 replies" or "1,001 replies".
WRONG_SINGULAR = re.compile(rf"(?<![\d,.])1 (?:{NOUNS})\b")


def _words(response) -> str:
    assert response.status_code == 200, response.status_code
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(text.split())


def _assert_counted(text: str, *phrases: str) -> None:
    for phrase in phrases:
        assert re.search(rf"(?<![\d,.]){re.escape(phrase)}(?!\w)", text), f"{phrase!r} not on the page"
    assert not WRONG_SINGULAR.findall(text), WRONG_SINGULAR.findall(text)


@pytest.fixture
def threads_with_0_1_2_replies(db):
    """A featured forum with three threads by different members, answered 0, 1 and 2 times."""
    forum = ForumFactory(is_featured=True)
    authors = MemberFactory.create_batch(3)
    threads = [ThreadFactory(forum=forum, author=author) for author in authors]
    for count, thread in enumerate(threads):
        for n in range(count):
            ReplyFactory(parent=thread.posts.get(number=0), author=authors[(count + n + 1) % 3])
    return threads


@pytest.mark.parametrize("url", [
    reverse("forums:home"), reverse("forums:latest"),
])
def test_thread_lists_count_replies_at_0_1_and_2(client, threads_with_0_1_2_replies, url):
    _assert_counted(_words(client.get(url)), "0 replies", "1 reply", "2 replies")


def test_forum_page_counts_replies_at_0_1_and_2(client, threads_with_0_1_2_replies):
    forum = threads_with_0_1_2_replies[0].forum
    _assert_counted(_words(client.get(forum.get_absolute_url())), "0 replies", "1 reply", "2 replies")


def test_new_replies_are_counted_in_thread_lists(client, threads_with_0_1_2_replies):
    reader = MemberFactory()
    for thread in threads_with_0_1_2_replies:
        thread.refresh_from_db()
        thread_visit_record(member=reader, thread=thread)
    for count, thread in enumerate(threads_with_0_1_2_replies):
        for _ in range(count):
            ReplyFactory(parent=thread.posts.get(number=0))
    client.force_login(reader)
    _assert_counted(_words(client.get(reverse("forums:latest"))), "1 new", "2 new", "2 replies", "4 replies")


@pytest.mark.parametrize("count, phrase", [(0, "0 replies"), (1, "1 reply"), (2, "2 replies")])
def test_thread_headings_count_replies(client, threads_with_0_1_2_replies, count, phrase):
    thread = threads_with_0_1_2_replies[count]
    for url in (thread.get_absolute_url(), thread.get_view_all_url()):
        _assert_counted(_words(client.get(url)), phrase)


def test_posts_count_their_authors_posts_and_recommendations(client, db):
    one_post, two_posts = MemberFactory(), MemberFactory()
    thread = ThreadFactory(author=two_posts)
    first = ReplyFactory(parent=thread.posts.get(number=0), author=one_post)
    second = ReplyFactory(parent=first, author=two_posts)
    recommenders = MemberFactory.create_batch(2)
    recommendation_set(member=recommenders[0], post=first, recommend=True)
    for recommender in recommenders:
        recommendation_set(member=recommender, post=second, recommend=True)
    text = _words(client.get(thread.get_view_all_url()))
    _assert_counted(text, "(1 post)", "(2 posts)", "1 recommendation", "2 recommendations")


def test_my_posts_count_recommendations(client, member, opening_post):
    recommenders = MemberFactory.create_batch(2)
    once = ReplyFactory(parent=opening_post, author=member)
    twice = ReplyFactory(parent=opening_post, author=member)
    ReplyFactory(parent=opening_post, author=member)
    recommendation_set(member=recommenders[0], post=once, recommend=True)
    for recommender in recommenders:
        recommendation_set(member=recommender, post=twice, recommend=True)
    client.force_login(member)
    _assert_counted(_words(client.get(reverse("forums:my-posts"))), "1 recommendation", "2 recommendations")


def test_all_forums_counts_each_sections_forums(client, db):
    from tests.factories import SectionFactory

    one, two = SectionFactory(name="Solo Section"), SectionFactory(name="Pair Section")
    ForumFactory(section=one)
    ForumFactory.create_batch(2, section=two)
    SectionFactory(name="Empty Section")

    page = client.get(reverse("forums:forum-index"))
    text = _words(page)

    _assert_counted(text, "Solo Section 1 forum", "Pair Section 2 forums", "Empty Section 0 forums")
    sections = re.findall(r'<details class="forum-section"( open)?>', page.content.decode())
    assert sections[0] == " open" and set(sections[1:]) == {""}  # the Main Forums open, sections folded


def test_search_counts_posts_found_at_0_1_and_2(client, opening_post):
    for word, count in (("gooseberry", 1), ("damson", 2)):
        for _ in range(count):
            ReplyFactory(parent=opening_post, body=f"A word about {word} jam.")
    for word, phrase in (("quince", "0 posts found"), ("gooseberry", "1 post found"),
                         ("damson", "2 posts found")):
        _assert_counted(_words(client.get(reverse("forums:search"), {"q": word})), phrase)


def test_profile_counts_at_0_1_and_2(client, db):
    member = MemberFactory()
    for count in (0, 1, 2):
        if count:
            ThreadFactory(author=member)
        _assert_counted(_words(client.get(member.get_absolute_url())))


def test_notifications_count_unread_at_0_1_and_2(client, member, opening_post):
    client.force_login(member)
    _assert_counted(_words(client.get(reverse("forums:notification-list"))))
    for count in (1, 2):
        ReplyFactory(parent=opening_post)
        text = _words(client.get(reverse("forums:notification-list")))
        _assert_counted(text, f"Notifications {count} unread")


def test_conversations_count_messages_at_1_and_2(client, member, other_member):
    """A conversation starts with its first message, so there is no 0 to show."""
    conversation_create(sender=other_member, recipient=member, subject="One", body="Hi")
    two = conversation_create(sender=other_member, recipient=member, subject="Two", body="Hi")
    message_create(author=other_member, conversation=two, body="Again")
    client.force_login(member)
    text = _words(client.get(reverse("conversations:inbox")))
    _assert_counted(text, "1 message", "2 messages", "1 new", "2 new")


BREAKS, KEEPS = JurySeat.Answer.CLEAR_BREAK, JurySeat.Answer.CLEAR_KEEP


@pytest.mark.parametrize("breaks", [0, 1, 2])
def test_jury_result_counts_jurors_at_0_1_and_2(client, opening_post, breaks):
    rule = alert_rule_create(slug="off-topic", name="Off-topic for this forum", position=0)
    MemberFactory.create_batch(9)
    post = ReplyFactory(parent=opening_post)
    alert = alert_create(alerter=MemberFactory(), post=post, rule=rule, rng=random.Random(1))
    seats = alert.jury.seats.select_related("juror")
    # Four "does not break it" answers close the jury early, whatever came before.
    for seat, answer in zip(seats, [BREAKS] * breaks + [KEEPS] * 4):
        jury_vote(juror=seat.juror, jury=alert.jury, answer=answer, rng=random.Random(2))
    client.force_login(post.author)
    text = _words(client.get(reverse("moderation:jury-result", args=[alert.jury.pk])))
    phrase = {0: "0 jurors said", 1: "1 juror said", 2: "2 jurors said"}[breaks]
    _assert_counted(text, phrase)


@pytest.mark.parametrize("count, seconds, minutes", [
    (0, "0 seconds", "0 minutes"), (1, "1 second", "1 minute"), (2, "2 seconds", "2 minutes"),
])
def test_waits_in_refusals_are_counted(count, seconds, minutes):
    assert (seconds_phrase(count), minutes_phrase(count)) == (seconds, minutes)


def test_new_member_pause_counts_the_wait(settings, opening_post):
    settings.FORUMS_NEW_MEMBER_POSTS = 10
    newcomer = MemberFactory(joined_at=timezone.now() - timedelta(hours=2))
    first = reply_create(author=newcomer, parent=opening_post, body="First")
    for seconds_later, wait in ((29.5, "1 second"), (28.5, "2 seconds")):
        with pytest.raises(PostingPaused) as refusal:
            reply_create(author=newcomer, parent=opening_post, body="Too soon",
                         created_at=first.created_at + timedelta(seconds=seconds_later))
        assert f"Please wait {wait}." in str(refusal.value)
