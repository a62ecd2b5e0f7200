"""Every XSS payload through every page that shows one object (a profile, a thread, a
search, a conversation, a jury), fetched with Django's test client: the page holds no
executable HTML and prints what the member wrote exactly, escaped; and the RSS and
Atom feeds stay well-formed XML with the payloads escaped.

The browser test (tests/browser/test_xss.py) loads the list pages that show all the
payloads at once, and a spread of these single-object pages, in Chromium.
"""

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from forums.feeds import absolute_paths, xml_text
from forums.models import Picture, PollOption, Post
from forums.services import pictures_delete, pictures_upload, reply_create
from forums.views import PENDING_SHOWN
from moderation.models import Jury
from moderation.services import alert_rule_create, host_add, thread_lock
from tests.factories import ForumFactory, MemberFactory, ThreadFactory
from tests.pictures import pending_picture, upload

from .xss import executable_vectors, page_vectors
from .xss_data import (
    PAYLOADS,
    clip,
    escaping_problems,
    payload_conversations,
    payload_edits,
    payload_juries,
    payload_members,
    payload_polls,
    payload_replies,
    payload_threads,
)

pytestmark = pytest.mark.django_db


def assert_none(problems):
    assert not problems, "\n".join(problems[:40])


@pytest.fixture
def one_page_feeds(monkeypatch):
    monkeypatch.setattr("forums.feeds.FEED_ITEMS", 1000)


def test_profiles_threads_and_feeds_print_payloads_escaped(client, one_page_feeds):
    """Display name, hometown, country and slogan on each profile (with the member's
    thread in "recent posts"); each thread's title, opening post and lock notice (a
    host's reason) on its page; titles and posts in the feeds."""
    authors = payload_members(PAYLOADS)
    forum = ForumFactory(slug="anything-goes")
    threads = payload_threads(forum=forum, authors=authors, payloads=PAYLOADS)
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    host = MemberFactory()
    host_add(moderator=staff, forum=forum, member=host)
    threads = [
        thread_lock(moderator=host, thread=thread, lock=True, reason=clip(payload, 200))
        for thread, payload in zip(threads, PAYLOADS)
    ]

    problems = []
    for author, thread in zip(authors, threads):
        problems += escaping_problems(
            client, author.get_absolute_url(),
            [author.display_name, author.hometown, author.country, author.slogan, thread.title],
        )
        problems += escaping_problems(
            client, thread.get_absolute_url(), [thread.title, author.display_name, thread.lock_notice]
        )
    problems += escaping_problems(client, reverse("moderation:log"), [])
    assert_none(problems)
    assert_feeds_escape(client, forum, threads)


def assert_feeds_escape(client, forum, threads):
    """RSS and Atom: the XML parses, every title comes back as written (less the
    control characters XML cannot carry), each item's HTML is its post's, and no item's HTML holds anything executable."""
    by_path = {thread.get_absolute_url(): thread for thread in threads}
    bodies = dict(Post.objects.filter(number=0, thread__in=threads).values_list("thread_id", "body_html"))
    atom = "{http://www.w3.org/2005/Atom}"
    for name, args in [("latest-feed", []), ("latest-feed-atom", []),
                       ("forum-feed", [forum.slug]), ("forum-feed-atom", [forum.slug])]:
        response = client.get(reverse(f"forums:{name}", args=args))
        assert response.status_code == 200, (name, response.status_code)
        root = ET.fromstring(response.content)
        seen = set()
        for item in root.findall(f"{atom}entry") or root.findall("channel/item"):
            link = item.findtext("link") or item.find(f"{atom}link").get("href")
            thread = by_path[urlsplit(link).path]
            seen.add(thread.pk)
            title = item.findtext(f"{atom}title") or item.findtext("title")
            html = item.findtext(f"{atom}summary") or item.findtext("description") or ""
            assert title == xml_text(thread.title), (name, thread.title, title)
            # The stored post, with the site's own paths as full addresses.
            assert html == absolute_paths(xml_text(bodies[thread.pk]), "http://testserver"), (name, thread.title)
            assert executable_vectors(html) == [], (name, thread.title, html)
        assert seen == {thread.pk for thread in threads}, name


def test_poll_questions_and_options_are_printed_escaped(client, one_page_feeds):
    """A poll's question and options on its thread page (results, for visitors), on the
    vote page (the form, for a member) and in the feeds, as text."""
    authors = payload_members(["Poller"]) * len(PAYLOADS)
    threads = payload_polls(forum=ForumFactory(slug="polls"), authors=authors, payloads=PAYLOADS)
    options: dict[int, list[str]] = {}
    for thread_id, text in PollOption.objects.order_by("position").values_list("poll_id", "text"):
        options.setdefault(thread_id, []).append(text)
    problems = []
    for thread in threads:
        values = [thread.poll.question, *options[thread.pk]]
        problems += escaping_problems(client, thread.get_absolute_url(), values)
    client.force_login(MemberFactory())
    for thread in threads[::10]:
        values = [thread.poll.question, *options[thread.pk]]
        problems += escaping_problems(client, reverse("forums:poll-vote", args=[thread.pk]), values)
    assert_none(problems)
    for name in ("latest-feed", "latest-feed-atom"):
        root = ET.fromstring(client.get(reverse(f"forums:{name}")).content)
        atom = "{http://www.w3.org/2005/Atom}"
        items = root.findall(f"{atom}entry") or root.findall("channel/item")
        assert len(items) == len(threads), name
        for item in items:
            html = item.findtext(f"{atom}summary") or item.findtext("description") or ""
            assert "Poll: " in html and executable_vectors(html) == [], (name, html)


def test_feed_survives_control_characters(client):
    """XML 1.0 cannot carry most control characters; a member can type them into a
    title. The feed leaves them out instead of failing for everyone."""
    ThreadFactory(title="Bell \x07 and escape \x1b[31m", body="Text with \x01 inside")
    for name in ("latest-feed", "latest-feed-atom"):
        response = client.get(reverse(f"forums:{name}"))
        assert response.status_code == 200
        assert b"Bell  and escape [31m" in response.content
        ET.fromstring(response.content)


def test_search_box_prints_payloads_escaped(client):
    """The query and the author filter, reflected in the title, the fields and errors."""
    problems = []
    for payload in PAYLOADS:
        problems += escaping_problems(
            client, reverse("forums:search"), [payload],
            data={"q": payload, "author": clip(payload, 150)}, statuses=(200, 400),
        )
    assert_none(problems)


def test_conversation_pages_print_payloads_escaped(client):
    """A private message's subject: its page's title and heading. (Senders' names are
    the display names checked on profiles; the browser test shows them in the inbox.)"""
    reader, sender = MemberFactory(), MemberFactory()
    conversations = payload_conversations(
        recipient=reader, senders=[sender] * len(PAYLOADS), payloads=PAYLOADS
    )
    client.force_login(reader)
    problems = []
    for conversation in conversations:
        problems += escaping_problems(client, conversation.get_absolute_url(), [conversation.subject])
    assert_none(problems)


def test_picture_alt_texts_make_nothing_executable(client):
    """Every payload as a picture's alt text, in replies shown on "View all"; wherever
    the Markdown leaves an image, the payload is its alt text, nothing more."""
    author = MemberFactory()
    thread = ThreadFactory(author=author)
    picture = pending_picture(author)
    address = picture.get_absolute_url()
    shown = 0
    for payload in PAYLOADS:
        try:
            reply_create(author=author, parent=thread.posts.get(number=0), body=f"![{payload}]({address})")
        except ValidationError:
            continue  # no alt text left once the Markdown is read: refused, nothing stored
        shown += 1
    pages = -(-shown // 50)
    problems = []
    for page in range(1, pages + 1):
        problems += escaping_problems(client, thread.get_view_all_url(), [], data={"page": page})
    assert_none(problems)
    assert shown > len(PAYLOADS) / 2
    # A picture's own tag carries exactly three attributes, whatever its alt text said.
    tags = re.findall(r"<img\b[^>]*>", "".join(Post.objects.filter(thread=thread).values_list("body_html", flat=True)))
    assert len(tags) > len(PAYLOADS) / 2
    assert all(re.fullmatch(r'<img alt="[^"]*" loading="lazy" src="/pictures/[0-9]+/">', tag) for tag in tags)


def test_picture_file_names_print_escaped(member_client, member, opening_post, settings):
    """Every payload as an uploaded file's name: in the list of the member's pictures
    not placed yet on the compose forms, and in the message refusing a file."""
    settings.FORUMS_PICTURES_PER_POST = PENDING_SHOWN
    reply_form = reverse("forums:reply-create", args=[opening_post.thread_id, 0])
    problems = []
    for start in range(0, len(PAYLOADS), PENDING_SHOWN):
        batch = [payload.replace("/", "_") or "x" for payload in PAYLOADS[start : start + PENDING_SHOWN]]
        pictures_upload(owner=member, files=[upload(name) for name in batch], body="", require_placed=False)
        names = list(Picture.objects.filter(owner=member).values_list("name", flat=True))
        problems += escaping_problems(member_client, reply_form, names)
        pictures_delete(pictures=Picture.objects.filter(owner=member))
    for payload in PAYLOADS[:60]:
        name = payload.replace("/", "_") or "x"
        response = member_client.post(reply_form, {"body": "![x](x)", "pictures": [upload(name, b"<html>")]})
        assert response.status_code == 400
        page = response.content.decode()
        problems += [f"refusal of {name!r}: {problem}" for problem in page_vectors(page)]
    assert_none(problems)


def test_jury_pages_print_payloads_escaped(client, settings):
    """The alerter's comment on the juror's page and on the result; the jurors'
    comments on the result; the alerted reply's subject."""
    settings.FORUMS_JURY_SIZE = 3
    settings.FORUMS_JURY_VOTES_TO_HIDE = 2
    poster, alerter, *jurors = payload_members(["Poster", "Alerter", *PAYLOADS[:3]])
    thread = ThreadFactory(author=poster, title="Alerted replies")
    posts = payload_replies(thread=thread, authors=[poster] * len(PAYLOADS), payloads=PAYLOADS)
    rule = alert_rule_create(slug="no-attacks", name="No personal attacks")
    juries = payload_juries(posts=posts, alerter=alerter, jurors=jurors, rule=rule, payloads=PAYLOADS)
    assert all(jury.is_open for jury in Jury.objects.all())

    problems = []
    client.force_login(alerter)
    for jury in Jury.objects.select_related("alert").prefetch_related("seats"):
        comments = [seat.comment for seat in jury.seats.all() if seat.comment]
        problems += escaping_problems(
            client, reverse("moderation:jury-result", args=[jury.pk]), [jury.alert.comment, *comments]
        )
    client.force_login(jurors[2])
    for jury, post in zip(juries, posts):
        problems += escaping_problems(
            client, reverse("moderation:jury-detail", args=[jury.pk]),
            [jury.alert.comment, post.subject],
        )
    assert_none(problems)


def test_edit_history_prints_every_version_escaped(client):
    """The edit history shows each version's changes, made from the plain text: a
    payload (body and subject) is printed as text where it was inserted and where it
    was deleted, never as HTML."""
    author = MemberFactory()
    thread = ThreadFactory(author=author, title="Edited replies")
    replies = payload_replies(thread=thread, authors=[author] * len(PAYLOADS), payloads=PAYLOADS)
    edited = payload_edits(posts=replies, payloads=PAYLOADS)

    problems = []
    for post in edited:
        page = reverse("forums:post-history", args=[post.thread_id, post.number])
        problems += escaping_problems(client, page, [post.body, post.subject])
    assert_none(problems)


def test_search_marks_only_the_words_searched_for(client):
    """Search results mark matches with <mark>, using two control characters as
    sentinels; a title that contains them must not get marks of its own."""
    ThreadFactory(title="Storm \x02<b>\x03 warning", body="The storm is coming.")
    response = client.get(reverse("forums:search"), {"q": "storm"})
    page = response.content.decode()
    assert "<mark>Storm</mark>" in page
    assert "<mark>&lt;b&gt;</mark>" not in page
    assert page.count("<mark>") == page.count("</mark>")


def test_thread_with_one_long_word_for_a_title_gets_a_slug_that_fits(member_client, forum):
    """The slug is cut at a word boundary; a title that is one word of 150 characters
    (a base64 payload of the corpus) once made a slug of 81 characters, which
    PostgreSQL refused with an error page."""
    title = "x" * 150
    response = member_client.post(
        reverse("forums:thread-create", args=[forum.slug]), {"title": title, "body": "Body", "post": "1"}
    )
    assert response.status_code == 302
    thread = forum.threads.get()
    assert thread.title == title and len(thread.slug) == 80
