"""export_site and import_site: a whole community moves between databases intact.

The export runs in this process, on the test database (SQLite, or PostgreSQL when
DATABASE_URL says so); the import runs as an operator would run it, in a fresh
process against a fresh, migrated database: an SQLite file always, and a new
PostgreSQL database whenever a PostgreSQL server answers.
"""

import gzip
import json
import os
import random
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import Sponsor, User
from accounts.services import (
    code_batch_create,
    code_redeem,
    member_suspend,
    member_update,
)
from conversations.services import conversation_create, message_create
from community.management.commands import export_site
from community.management.commands.import_site import NOT_EMPTY
from community.models import ImportedRow
from forums.models import PollOption, Post
from forums.polls import PollSpec, poll_vote
from forums.services import (
    community_update,
    forum_mark_read,
    forum_subscription_set,
    forum_trash_set,
    member_ignore_set,
    post_edit,
    recommendation_set,
    reply_create,
    thread_create,
    thread_subscription_set,
    thread_trash_set,
    thread_visit_record,
)
from moderation.models import JurySeat
from moderation.services import (
    alert_create,
    alert_rule_create,
    appeal_create,
    host_add,
    jury_vote,
    member_block,
    poll_close,
    thread_lock,
)

from .factories import ForumFactory, MemberFactory, ThreadFactory
from .pictures import pending_picture, placed
from .processes import ROOT, run_python

THREAD_TITLE = "Café society – “quotes”, ünïcode and 100% of the news"


def _manage(*args: str, database_url: str):
    return run_python(*args, DATABASE_URL=database_url)


def _object_lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    return lines


@pytest.fixture
def community(db, django_capture_on_commit_callbacks):
    """A small community with a row in every table that export_site covers."""
    community_update(
        name="Grassroots Test", tagline="People, not algorithms", welcome_title="Welcome",
        join_prompt="Join us", support_prompt="Support us",
    )
    staff = User.objects.create_user("staffer", email="staff@example.org", password="x" * 12, is_staff=True)
    moderators = Group.objects.create(name="Moderators")
    moderators.permissions.add(Permission.objects.get(codename="change_post"))
    staff.groups.add(moderators)
    staff.user_permissions.add(Permission.objects.get(codename="view_forum"))
    poster, replier, host = MemberFactory.create_batch(3)
    jurors = MemberFactory.create_batch(8)
    address = EmailAddress.objects.create(user=poster, email=poster.email, verified=True, primary=True)
    member_update(member=poster, jury_blacklist=[replier], hometown="Tulsa", time_zone="America/Chicago")

    forum, other_forum = ForumFactory(), ForumFactory()
    host_add(moderator=staff, forum=forum, member=host)
    thread = ThreadFactory(forum=forum, author=poster, title=THREAD_TITLE)
    opening = thread.posts.get(number=0)
    thread_subscription_set(member=host, thread=thread, follow=True)
    forum_subscription_set(member=replier, forum=forum, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_create(
            author=replier, parent=opening,
            body=f"You are all *wrong*. {placed(pending_picture(replier), 'A chart')}",
        )
        reply_create(author=host, parent=reply, body="A nested answer that stays visible.")
    post_edit(editor=replier, post=reply, body="You are all wrong, and here is why.")
    recommendation_set(member=host, post=opening, recommend=True)
    forum_mark_read(member=replier, forum=forum)
    thread_visit_record(member=host, thread=thread)
    thread_trash_set(member=jurors[0], thread=thread, trash=True)
    forum_trash_set(member=poster, forum=other_forum, trash=True)
    member_ignore_set(member=poster, other=replier, ignore=True)
    batch = code_batch_create(label="Spring drive", quantity=2, months=3, created_by=staff)
    code_redeem(member=host, code=batch.codes.first().code)
    Sponsor.objects.create(text="Local bookshop", link="https://books.example.org/")

    rule = alert_rule_create(slug="personal-attack", name="No personal attacks")
    alert = alert_create(alerter=poster, post=reply, rule=rule, rng=random.Random(1))
    for seat in list(alert.jury.seats.select_related("juror"))[:4]:
        jury_vote(juror=seat.juror, jury=alert.jury, answer=JurySeat.Answer.CLEAR_BREAK,
                  rng=random.Random(2))
    alert.jury.refresh_from_db()
    appeal_create(member=replier, jury=alert.jury, text="It was a fair point, made sharply.")
    member_block(moderator=staff, forum=forum, member=jurors[7], block=True, reason="Spam")
    thread_lock(moderator=staff, thread=thread, lock=True, reason="Cooling off")
    poll_thread = thread_create(
        forum=forum, author=poster, title="Pick a day", body="For the meet-up.",
        poll=PollSpec(question="Which day?", options=("Saturday", "Sunday"), max_choices=2),
    )
    poll_vote(member=replier, thread=poll_thread, options=PollOption.objects.filter(poll=poll_thread.pk))
    poll_close(moderator=staff, thread=poll_thread)
    member_suspend(member=jurors[6], reason="Spam", until=timezone.now() + timedelta(days=3))
    conversation = conversation_create(sender=host, recipient=jurors[1], subject="Thanks",
                                       body="Thank you for serving on the jury.")
    message_create(author=jurors[1], conversation=conversation,
                   body=f"Glad to help. {placed(pending_picture(jurors[1]), 'My badge')}")
    # What an import from phpBB records (its old links redirect with it).
    ImportedRow.objects.create(kind=ImportedRow.Kind.THREAD, old_id=7, new_id=thread.pk)

    # Secrets that must stay behind.
    session = SessionStore()
    session["_auth_user_id"] = str(poster.pk)
    session.create()
    Authenticator.objects.create(user=poster, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    EmailConfirmation.create(address)
    return {"staff": staff, "poster": poster, "thread": thread, "session": session}


def _postgres_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url.rsplit("/", 1)[0]
    return "postgres://postgres@127.0.0.1:5432"


@pytest.fixture
def empty_postgresql():
    """A new, migrated PostgreSQL database, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    server = _postgres_server()
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL does not answer at {server}: {error}")
    name = f"grassroots_import_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{server}/{name}"
        result = _manage("manage.py", "migrate", "--noinput", database_url=url)
        assert result.returncode == 0, result.stderr
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# What an operator checks after a move: the thread reads as before, the staff member
# must set a new password, and new members and replies get fresh ids.
AFTER_IMPORT = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from accounts.models import User
from accounts.services import member_create
from forums.models import Forum, Thread
from forums.services import thread_create
setup_test_environment()
thread = Thread.objects.get(title=%r)
page = Client().get(thread.get_view_all_url())
newcomer = member_create(username="newcomer", email="new@example.org", password="a long new password")
fresh = thread_create(forum=Forum.objects.get(pk=thread.forum_id), author=newcomer,
                      title="First thread after the move", body="Hello again.")
print(json.dumps({
    "status": page.status_code,
    "page": page.content.decode(),
    "staff_password_usable": User.objects.get(username="staffer").has_usable_password(),
    "fresh_thread_status": Client().get(fresh.get_absolute_url()).status_code,
}))
""" % THREAD_TITLE


def _round_trip(community, tmp_path, target_url, filename, monkeypatch):
    # Small pages, so the export really pages through every table.
    monkeypatch.setattr(export_site, "BATCH_SIZE", 3)
    exported = tmp_path / filename
    call_command("export_site", str(exported))

    result = _manage("manage.py", "import_site", str(exported), database_url=target_url)
    assert result.returncode == 0, result.stderr
    assert "Imported" in result.stdout

    again = tmp_path / ("again-" + filename)
    result = _manage("manage.py", "export_site", str(again), database_url=target_url)
    assert result.returncode == 0, result.stderr
    source, target = _object_lines(exported), _object_lines(again)
    assert source[-1] == target[-1], "the number of rows per model differs"
    for model in export_site.site_models():
        label = model._meta.label_lower
        assert source[-1]["counts"][label] == model._base_manager.count()
        assert source[-1]["counts"][label], f"give {label} a row in the community fixture"

    def comparable(lines):
        rows = []
        for line in lines[1:-1]:
            if line["model"] == "accounts.user":
                assert line["fields"].pop("password").startswith("!")
            rows.append(line)
        return rows

    assert comparable(target) == comparable(source)

    result = _manage("-c", AFTER_IMPORT, database_url=target_url)
    assert result.returncode == 0, result.stderr
    after = json.loads(result.stdout.strip().splitlines()[-1])
    assert after["status"] == 200
    assert "A nested answer that stays visible." in after["page"]
    assert after["staff_password_usable"] is False
    assert after["fresh_thread_status"] == 200


def test_round_trip_into_a_new_sqlite_database_keeps_every_row(
    community, tmp_path, empty_sqlite, monkeypatch
):
    _round_trip(community, tmp_path, empty_sqlite, "site.jsonl.gz", monkeypatch)


def test_round_trip_into_postgresql_keeps_every_row(community, tmp_path, empty_postgresql, monkeypatch):
    _round_trip(community, tmp_path, empty_postgresql, "site.jsonl", monkeypatch)


def test_every_app_of_the_project_is_exported():
    from django.apps import apps

    ours = {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(ROOT) and not Path(config.path).is_relative_to(ROOT / ".venv")
        and any(config.get_models())
    }
    assert ours == set(export_site.SITE_APPS), (
        "list the project's apps in SITE_APPS (community/management/commands/export_site.py)"
    )


def test_export_leaves_secrets_behind(community, tmp_path):
    exported = tmp_path / "site.jsonl"
    call_command("export_site", str(exported))
    text = exported.read_text()
    lines = _object_lines(exported)

    models = {line["model"] for line in lines[1:-1]}
    assert {"accounts.user", "forums.post", "forums.postrevision", "moderation.jury",
            "moderation.moderationaction", "conversations.message", "account.emailaddress",
            "auth.group"} <= models
    assert not {"sessions.session", "mfa.authenticator", "account.emailconfirmation"} & models
    staff = next(l for l in lines[1:-1] if l["model"] == "accounts.user" and l["fields"]["username"] == "staffer")
    assert staff["fields"]["password"].startswith("!")
    # Neither hashes nor the other secrets appear anywhere in the file.
    assert User.objects.get(username="staffer").password not in text
    assert "JBSWY3DPEHPK3PXP" not in text
    assert community["session"].session_key not in text
    for confirmation in EmailConfirmation.objects.all():
        assert confirmation.key not in text
    # Groups are exported with their ids; permissions, which are not exported and
    # have other ids in another database, go by name.
    group = next(l for l in lines[1:-1] if l["model"] == "auth.group")
    assert staff["fields"]["groups"] == [group["pk"]]
    assert group["fields"]["permissions"] == [["change_post", "forums", "post"]]
    assert staff["fields"]["user_permissions"] == [["view_forum", "forums", "forum"]]


def test_import_refuses_a_database_that_already_has_a_community(community, tmp_path):
    exported = tmp_path / "site.jsonl"
    call_command("export_site", str(exported))
    posts = Post.objects.count()

    with pytest.raises(CommandError) as refused:
        call_command("import_site", str(exported))

    assert str(refused.value).startswith(NOT_EMPTY.split("(")[0])
    assert Post.objects.count() == posts


def test_import_of_a_cut_off_file_changes_nothing(community, tmp_path, empty_sqlite):
    exported = tmp_path / "site.jsonl"
    call_command("export_site", str(exported))
    lines = exported.read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-3]))

    result = _manage("manage.py", "import_site", str(cut), database_url=empty_sqlite)

    assert result.returncode != 0
    assert "the file is incomplete" in result.stderr
    with sqlite3.connect(empty_sqlite.removeprefix("sqlite:///")) as target:
        for table in ("accounts_user", "forums_forum", "forums_post"):
            assert target.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_import_refuses_a_file_from_another_release(community, tmp_path):
    exported = tmp_path / "site.jsonl"
    call_command("export_site", str(exported))
    header, *rest = exported.read_text().splitlines(keepends=True)
    data = json.loads(header)
    data["migrations"]["forums"].append("9999_from_the_future")
    exported.write_text(json.dumps(data) + "\n" + "".join(rest))

    with pytest.raises(CommandError, match="forums: file at 9999_from_the_future"):
        call_command("import_site", str(exported))


def test_import_refuses_a_file_that_is_not_an_export(db, tmp_path):
    other = tmp_path / "dump.json"
    other.write_text('[{"model": "forums.post", "pk": 1}]\n')

    with pytest.raises(CommandError, match="is not a Grassroots export"):
        call_command("import_site", str(other))
