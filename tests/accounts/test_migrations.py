"""Data migrations, run forwards on rows made before them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("accounts", "0006_member_deleted_at"), ("forums", "0008_thread_forum_page_with_author")]
AFTER = [("accounts", "0007_member_restricted_until")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_members_restricted_by_hidden_posts_stay_restricted_after_0007():
    old = _migrate(BEFORE)
    try:
        User, Section, Forum = (old.get_model(*name) for name in (
            ("accounts", "User"), ("forums", "Section"), ("forums", "Forum")))
        Thread, Post = old.get_model("forums", "Thread"), old.get_model("forums", "Post")
        now = timezone.now()
        restricted, fine = (User.objects.create(username=name) for name in ("five", "four"))
        section = Section.objects.create(name="S", slug="s", position=0)
        forum = Forum.objects.create(name="F", slug="f", section=section, kind="topic", position=0)
        for author, hidden in ((restricted, 5), (fine, 4)):
            thread = Thread.objects.create(forum=forum, author=author, title="T", slug="t",
                                           created_at=now, last_activity_at=now, last_poster=author)
            for n in range(hidden):
                Post.objects.create(thread=thread, author=author, number=n, tree_path=f"{n:07d}",
                                    created_at=now, is_hidden=True, hidden_at=now - timedelta(days=n))
        new = _migrate(AFTER).get_model("accounts", "User")
        # The oldest of the five leaves the 90-day window four days from now.
        assert new.objects.get(username="five").restricted_until == now - timedelta(days=4) + timedelta(days=90)
        assert new.objects.get(username="four").restricted_until is None
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
