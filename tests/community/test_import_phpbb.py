"""`manage.py import_phpbb` (issue 20): a phpBB board comes over with its members,
forums, threads, posts, hosts, suspensions, messages and old links.

The sources are real phpBB-shaped databases built from phpBB's schema
(tests/community/phpbb_source.py says from which file and commit), in SQLite, in
both of phpBB's text formats, and in PostgreSQL when the suite runs on it.
"""

import io
import os
import sqlite3
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from community.models import ImportedRow
from community.phpbb import posts as posts_module
from community.phpbb.importer import Importer
from community.phpbb.source import open_source
from community.phpbb.text import quoted_post_ids, to_markdown
from conversations.models import Conversation, Participant
from forums.models import Forum, PollVote, Post, Section, Thread
from tests.invariants import assert_counters_equal_rows

from .phpbb_source import PhpbbSource, sample_community

pytestmark = pytest.mark.django_db

User = get_user_model()


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    parts = urlsplit(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return urlunsplit(parts._replace(path=f"{parts.path}_phpbb{worker}"))


def _postgres_database(url: str, *, create: bool) -> None:
    """Drop the source database at `url`, and make it afresh when `create`."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


SOURCES = [("sqlite", "3.2"), ("sqlite", "3.0"), ("postgres", "3.2")]


@pytest.fixture(params=SOURCES, ids=[f"{engine}-{version}" for engine, version in SOURCES])
def phpbb(request, tmp_path):
    """A small phpBB board (sample_community) with one of everything; the source stays
    open so tests can add rows between runs."""
    engine, version = request.param
    if engine == "postgres":
        url = _postgres_url()
        if url is None:
            pytest.skip("PostgreSQL sources are tested when DATABASE_URL is PostgreSQL")
        _postgres_database(url, create=True)
    else:
        url = f"sqlite:///{tmp_path / 'phpbb.sqlite3'}"
    source = PhpbbSource(url, version=version).create()
    sample_community(source)
    yield source
    source.close()
    if engine == "postgres":
        _postgres_database(url, create=False)


@pytest.fixture
def sqlite_phpbb(tmp_path):
    source = PhpbbSource(f"sqlite:///{tmp_path / 'phpbb.sqlite3'}").create()
    sample_community(source)
    yield source
    source.close()


def run_import(source, *args) -> str:
    out = io.StringIO()
    call_command("import_phpbb", source.url, "--workers=1", *args, stdout=out)
    return out.getvalue()


def imported(kind: str, old_id: int) -> int:
    return ImportedRow.objects.get(source="phpbb", kind=kind, old_id=old_id).new_id


def post_of(old_id: int) -> Post:
    return Post.objects.get(pk=imported(ImportedRow.Kind.POST, old_id))


def test_import_phpbb_brings_sections_forums_threads_and_posts(phpbb, client):
    output = run_import(phpbb)

    assert list(Section.objects.values_list("name", flat=True)) == ["General", "Hobbies"]
    news = Forum.objects.get(name="Announcements & News")
    archive, gardening = Forum.objects.get(name="Archive"), Forum.objects.get(name="Gardening")
    assert (news.section.name, archive.section.name, gardening.section.name) == ("General", "General", "Hobbies")
    assert news.purpose == "What is new"
    assert news.position < archive.position < gardening.position  # phpBB's order
    lobby = Forum.objects.get(name="Lobby")
    assert lobby.section is None and lobby.kind == Forum.Kind.MAIN
    assert not Forum.objects.filter(name="phpBB.com").exists()
    assert "Skipped 1 forums: link forums" in output

    welcome = Thread.objects.get(title="Welcome & rules")
    assert (welcome.is_pinned, welcome.is_locked, welcome.view_count, welcome.reply_count) == (True, False, 120, 1)
    sticky = Thread.objects.get(title="Locked sticky")
    assert sticky.is_pinned and sticky.is_locked
    tomatoes = Thread.objects.get(title="Tomatoes")
    assert tomatoes.reply_count == 2  # the soft-deleted reply stays behind
    assert not Thread.objects.filter(title__in=["Moved away", "Waiting for approval"]).exists()

    opening = post_of(1)
    assert "<strong>board</strong>" in opening.body_html
    assert '<a href="https://example.org/rules" rel="nofollow ugc noopener">the rules</a>' in opening.body_html
    assert "<li>Be kind</li>" in opening.body_html and ":)" in opening.body_text
    assert "<pre><code>print('hi')" in post_of(2).body_html
    image = post_of(3).body_html
    assert '<a href="https://img.example.org/t.jpg" rel="nofollow ugc noopener">Image: t.jpg</a>' in image
    quoting = post_of(5)
    assert "<blockquote>" in quoting.body_html and "bob wrote:" in quoting.body_text
    assert quoting.subject == "Really, bob?"  # its own words, not "Re: Tomatoes"
    if phpbb.version == "3.2":
        # The quote names the post it answers: the reply nests under it.
        assert quoting.parent == post_of(4) and quoting.depth == 2
    else:
        assert quoting.parent == post_of(3)
    assert post_of(10).author.public_name == "Guest"
    assert_counters_equal_rows()

    # The search index covers the imported posts.
    page = client.get(reverse("forums:search"), {"q": "really"})
    assert "1 post found" in page.text and "Really, bob?" in page.text
    assert "polls" not in output.split("Not carried over", 1)[-1]


def test_import_phpbb_brings_members_with_their_profiles(phpbb):
    output = run_import(phpbb)

    ann = User.objects.get(username="Ann_Smith")
    assert (ann.display_name, ann.email, ann.hometown, ann.slogan) == (
        "Ann Smith", "ann.smith@example.org", "Lyon", "Ann says hi")
    assert ann.date_joined.timestamp() == 1_400_000_000 + 3 * 3600
    assert ann.emailaddress_set.get().verified
    assert ann.post_count == Post.objects.filter(author=ann).count() == 3
    assert not User.objects.filter(username__icontains="bot").exists()
    assert "search-engine bots" in output
    assert "members' websites" in output
    # Hashes never reach the output.
    assert "$2y$" not in output and "$H$" not in output and "$P$" not in output


@pytest.mark.parametrize("username, password", [
    ("Ann_Smith", "ann-secret"),  # bcrypt $2y$
    ("bob", "bob-secret"),  # phpass $H$
    ("carol", "carol-secret"),  # phpass $P$
])
def test_imported_member_logs_in_with_phpbb_password_and_hash_is_upgraded(
    sqlite_phpbb, settings, client, username, password
):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher", "accounts.hashers.PhpbbPasswordHasher",
    ]
    run_import(sqlite_phpbb)
    member = User.objects.get(username=username)
    assert member.password.startswith("phpbb$")

    assert authenticate(username=username, password="wrong") is None
    member.refresh_from_db()
    assert member.password.startswith("phpbb$")

    response = client.post(reverse("account_login"), {"login": username, "password": password})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.password.startswith("md5$")  # Django's default now
    assert authenticate(username=username, password=password) == member


def test_import_phpbb_brings_bans_hosts_and_private_messages(phpbb):
    output = run_import(phpbb)

    bad = User.objects.get(username="Bad_Guy")
    assert bad.is_suspended and bad.suspended_until is None and bad.suspension_reason == "Spam"
    assert not User.objects.get(username="bob").is_suspended  # that ban was over
    assert "bans of IP addresses" in output and "already over" in output
    assert list(Forum.objects.get(name="Gardening").hosts.values_list("username", flat=True)) == ["Ann_Smith"]
    assert "groups of moderators" in output

    conversation = Conversation.objects.get()
    assert (conversation.subject, conversation.message_count) == ("Seeds", 2)
    assert [m.body for m in conversation.messages.order_by("number")] == ["Want some **seeds**?", "Yes please"]
    seats = Participant.objects.filter(conversation=conversation)
    assert sorted(seats.values_list("member__username", flat=True)) == ["Ann_Smith", "bob"]
    assert all(seat.unread_count == 0 for seat in seats)
    assert_counters_equal_rows()


def test_import_phpbb_brings_polls_with_members_votes(phpbb, client):
    output = run_import(phpbb)

    tomatoes = Thread.objects.get(title="Tomatoes")
    poll = tomatoes.poll
    assert tomatoes.has_poll and poll.question == "Best tomato?"
    assert (poll.max_choices, poll.allows_vote_change, poll.voter_count) == (1, True, 3)
    assert poll.closes_at.timestamp() == 1_500_000_100 + 7 * 86400
    assert [(option.text, option.vote_count) for option in poll.options.all()] == [("Roma", 2), ("Cherry", 1)]
    votes = {(vote.member.username, choice.option.text)
             for vote in PollVote.objects.filter(poll=poll) for choice in vote.choices.all()}
    assert votes == {("Ann_Smith", "Roma"), ("bob", "Roma"), ("carol", "Cherry")}
    assert "1 polls, 3 poll votes" in output
    # The guest's and the bot's votes cannot be a member's; the one-option poll is left out.
    assert "Skipped 1 poll votes: guests' votes (a Grassroots vote is a member's) (phpBB ids 2)" in output
    assert "Skipped 1 poll votes: their member was not imported (phpBB ids 2)" in output
    assert "Skipped 1 polls: 1 options (a Grassroots poll has 2 to 20) (phpBB ids 3)" in output
    assert not Thread.objects.get(title="Locked sticky").has_poll
    assert_counters_equal_rows()

    page = client.get(tomatoes.get_absolute_url())
    assert "Best tomato?" in page.text and "Cherry" in page.text
    found = client.get(reverse("forums:search"), {"q": "best"})
    assert "1 post found" in found.text


def test_import_phpbb_skips_a_poll_of_more_than_20_options(sqlite_phpbb):
    sqlite_phpbb.connection.execute("UPDATE phpbb_topics SET poll_title = '<t>Pick</t>', poll_max_options = 3 "
                                    "WHERE topic_id = 1")
    sqlite_phpbb.insert_many("poll_options", [
        {"poll_option_id": n, "topic_id": 1, "poll_option_text": f"<t>Option {n}</t>"} for n in range(1, 22)
    ])
    output = run_import(sqlite_phpbb)

    assert "Skipped 1 polls: 21 options (a Grassroots poll has 2 to 20) (phpBB ids 1)" in output
    assert not Thread.objects.get(title="Welcome & rules").has_poll
    assert Thread.objects.get(title="Tomatoes").has_poll  # the run carried on


def test_import_phpbb_again_brings_only_what_is_new(phpbb):
    run_import(phpbb)
    before = {row["id"]: row for row in Post.objects.values()}
    threads_before = Thread.objects.count()

    output = run_import(phpbb)
    assert "Imported: nothing new" in output
    assert {row["id"]: row for row in Post.objects.values()} == before

    # The old board carried on for a while: a reply quoting an imported post, a new topic.
    phpbb.insert_many("posts", [
        phpbb.post_row(11, 2, 6, poster=3, time=1_600_000_000, subject="Re: Tomatoes",
                       parts=[("quote", "carol", 5, "Really"), "Yes really"]),
        phpbb.post_row(12, 7, 7, poster=4, time=1_600_000_100, subject="Late topic", parts=["New here"]),
    ])
    phpbb.insert("topics", **phpbb.topic_row(7, 7, "Late topic", poster=4, time=1_600_000_100))
    phpbb.insert("users", **phpbb.user_row(8, "newcomer"))
    phpbb.insert("privmsgs", msg_id=3, root_level=1, author_id=3, message_time=1_600_000_200,
                 message_subject="Re: Seeds", message_text=phpbb.text(["Here they are"]), bbcode_uid=phpbb.uid)
    phpbb.insert_many("privmsgs_to", [{"msg_id": 3, "user_id": 4, "author_id": 3}])
    # Polls: the newcomer votes in the old poll, bob changes his vote there (the vote
    # brought over stays as it is), and the late topic has a poll of its own.
    phpbb.connection.cursor().execute(
        "UPDATE phpbb_poll_votes SET poll_option_id = 2 WHERE topic_id = 2 AND vote_user_id = 4")
    phpbb.connection.cursor().execute(
        "UPDATE phpbb_topics SET poll_title = 'Coming back?', poll_max_options = 2 WHERE topic_id = 7")
    phpbb.connection.commit()
    phpbb.insert_many("poll_options", [{"poll_option_id": n, "topic_id": 7, "poll_option_text": text}
                                       for n, text in [(1, "Yes"), (2, "No")]])
    phpbb.insert_many("poll_votes", [
        {"topic_id": 2, "poll_option_id": 2, "vote_user_id": 8},
        {"topic_id": 7, "poll_option_id": 1, "vote_user_id": 4},
        {"topic_id": 7, "poll_option_id": 2, "vote_user_id": 4},
    ])
    output = run_import(phpbb)

    assert "Imported: 1 members, 1 threads, 2 posts, 1 polls, 2 poll votes, 1 messages" in output
    tomatoes = Thread.objects.get(title="Tomatoes").poll
    assert [(option.text, option.vote_count) for option in tomatoes.options.all()] == [("Roma", 2), ("Cherry", 2)]
    late = Thread.objects.get(title="Late topic").poll
    assert (late.question, late.max_choices, late.voter_count) == ("Coming back?", 2, 1)
    assert [option.vote_count for option in late.options.all()] == [1, 1]
    conversation = Conversation.objects.get()
    assert [m.number for m in conversation.messages.order_by("number")] == [1, 2, 3]
    assert conversation.last_message_at.timestamp() == 1_600_000_200
    assert Thread.objects.count() == threads_before + 1
    assert {row["id"]: row for row in Post.objects.filter(pk__in=before).values()} == before
    late_reply = post_of(11)
    assert late_reply.number == 3
    if phpbb.version == "3.2":
        assert late_reply.parent == post_of(5)
    assert Thread.objects.get(title="Tomatoes").last_activity_at == late_reply.created_at
    assert_counters_equal_rows()


def test_import_phpbb_resumes_an_interrupted_run(sqlite_phpbb, monkeypatch):
    source = open_source(sqlite_phpbb.url, prefix="phpbb_")
    writes = []
    original = posts_module.PostImport._write

    def fail_on_second_batch(self, states, posts):
        writes.append(len(posts))
        if len(writes) == 2:
            raise RuntimeError("the machine went down")
        return original(self, states, posts)

    monkeypatch.setattr(posts_module.PostImport, "_write", fail_on_second_batch)
    with pytest.raises(RuntimeError):
        Importer(source, batch=2).run()
    first_batch = Post.objects.count()
    assert 0 < first_batch < 8
    assert_counters_equal_rows()  # each batch commits with its counters

    monkeypatch.undo()
    Importer(source, batch=2).run()
    source.close()
    assert Post.objects.count() == 8
    assert ImportedRow.objects.filter(kind="post").count() == 8
    assert_counters_equal_rows()


def test_import_phpbb_dry_run_writes_nothing(sqlite_phpbb):
    output = run_import(sqlite_phpbb, "--dry-run")

    assert "Dry run: nothing was written" in output
    assert "4 threads, 8 posts" in output
    assert not Post.objects.exists() and not ImportedRow.objects.exists()
    assert not User.objects.filter(username="bob").exists()
    # What it said is what a real run then does.
    summary = output.split("The import would do this:\n", 1)[1]
    assert run_import(sqlite_phpbb, "-v0").split("\n", 1)[1] == summary


def test_import_phpbb_refuses_what_is_not_phpbb(tmp_path, sqlite_phpbb):
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE notes (id INTEGER)").connection.commit()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    cases = [
        (f"sqlite:///{other}", [], "no phpBB tables with the prefix 'phpbb_'"),
        (sqlite_phpbb.url, ["--table-prefix=forum_"], "Tables found with the prefix phpbb_: pass --table-prefix"),
        (f"sqlite:///{garbage}", [], "Could not read"),
        (f"sqlite:///{tmp_path / 'missing.sqlite3'}", [], "There is no SQLite database"),
        ("ftp://example.org/board", [], "Give the phpBB database as"),
        (sqlite_phpbb.url, ["--table-prefix=x; DROP TABLE"], "is not a table prefix"),
    ]
    for url, args, message in cases:
        with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(";", ";")):
            call_command("import_phpbb", url, *args, stdout=io.StringIO())
    assert not User.objects.exists() and not ImportedRow.objects.exists()


def test_import_phpbb_mysql_needs_a_client_library():
    try:
        import MySQLdb  # noqa: F401
        pytest.skip("a MySQL client library is installed here")
    except ImportError:
        pass
    with pytest.raises(CommandError, match="MySQL client library"):
        call_command("import_phpbb", "mysql://user@127.0.0.1/phpbb", stdout=io.StringIO())


def test_import_phpbb_reports_and_skips_a_row_it_cannot_convert(sqlite_phpbb, monkeypatch):
    real = posts_module._convert

    def broken_for_post_4(text, uid):
        if "Mine too" in text and "quote" not in text.lower():
            raise ValueError("unreadable")
        return real(text, uid)

    monkeypatch.setattr(posts_module, "_convert", broken_for_post_4)
    output = run_import(sqlite_phpbb)
    assert "Skipped 1 posts: text that could not be converted (phpBB ids 4)" in output
    assert Post.objects.count() == 7
    assert_counters_equal_rows()


# -- Old links ----------------------------------------------------------------------------------


def test_old_phpbb_links_redirect_permanently(sqlite_phpbb, client, django_assert_num_queries):
    run_import(sqlite_phpbb)
    tomatoes = Thread.objects.get(title="Tomatoes")
    cases = {
        "/viewforum.php?f=6": Forum.objects.get(name="Gardening").get_absolute_url(),
        "/viewtopic.php?t=2": tomatoes.get_absolute_url(),
        "/viewtopic.php?f=6&t=2&start=20": tomatoes.get_absolute_url(),
        "/viewtopic.php?p=5": post_of(5).get_absolute_url(),
        "/viewtopic.php?p=3": tomatoes.get_absolute_url(),  # an opening post: its thread
        "/memberlist.php?mode=viewprofile&u=3": reverse("members:member-detail", args=["Ann_Smith"]),
    }
    for old, new in cases.items():
        with django_assert_num_queries(1):
            response = client.get(old)
        assert (response.status_code, response["Location"]) == (301, new), old


@pytest.mark.parametrize("url", [
    "/viewtopic.php?t=99", "/viewtopic.php?p=6", "/viewforum.php?f=4", "/memberlist.php?mode=viewprofile&u=7",
    "/viewtopic.php", "/viewtopic.php?t=abc", "/viewtopic.php?t=-1", "/viewtopic.php?p=1e3",
    "/viewtopic.php?t=" + "9" * 30, "/viewforum.php?f=%00", "/memberlist.php?mode=viewprofile&u=",
    "/memberlist.php?u=3", "/viewtopic.php?t=٣",
])
def test_old_phpbb_links_unknown_or_bad_are_404(sqlite_phpbb, client, url):
    run_import(sqlite_phpbb)
    assert client.get(url).status_code == 404


# -- Text -------------------------------------------------------------------------------------


def test_to_markdown_reads_both_phpbb_formats():
    xml = ('<r><B><s>[b]</s>bold<e>[/b]</e></B> <I><s>[i]</s>it<e>[/i]</e></I> <E>:)</E><br/>\n'
           '<QUOTE author="ann" post_id="12"><s>[quote=ann post_id=12]</s>hi<e>[/quote]</e></QUOTE>'
           '<LIST type="1"><s>[list=1]</s><LI><s>[*]</s>one</LI><e>[/list]</e></LIST></r>')
    assert to_markdown(xml) == "**bold** *it* :)\n\n> **ann wrote:**\n>\n> hi\n\n1. one"
    assert quoted_post_ids(xml) == [12]
    bbcode = ("[b:u1]bold[/b:u1] 5 &lt; 6 &amp; *stars*\n# not a heading "
              '<!-- m --><a class="postlink" href="http://x.org/?a=1&amp;b=2">http://x.org/?a=1&amp;b=2</a><!-- m -->')
    assert to_markdown(bbcode, "u1") == "**bold** 5 < 6 & \\*stars\\*  \n\\# not a heading <http://x.org/?a=1&b=2>"
    assert to_markdown("[attachment=0:u1]<!-- ia0 -->photo.jpg<!-- ia0 -->[/attachment:u1]", "u1") == (
        "\\[Attachment: photo.jpg\\]")
    assert to_markdown("<t></t>") == "(no text)"
    assert to_markdown("<r><B>unclosed</r>") == "unclosed"  # damaged XML: its words
