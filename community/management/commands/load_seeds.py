"""Load the seeded community from seeds/: site texts, sections, forums, members, threads
and the rules members can alert posts for.

Idempotent: anything already present (matched by slug, username, or forum + author +
title for threads) is left exactly as it is, so a second run changes nothing, and
neither staff edits made in the admin nor what members posted are ever touched.
"""

import tomllib
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.services import member_create
from config import page_cache
from forums.models import Community, Forum, Section, Thread
from forums.services import (
    community_update,
    forum_create,
    reply_create,
    section_create,
    thread_create,
)
from moderation.models import AlertRule
from moderation.services import alert_rule_create

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"


def _read(name: str) -> dict:
    with open(SEEDS_DIR / name, "rb") as seed_file:
        return tomllib.load(seed_file)


class Command(BaseCommand):
    help = "Load the seeded sections, forums, members and threads (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        site = _read("site.toml")
        catalogue = _read("forums.toml")
        created = {
            "community": 0, "sections": 0, "forums": 0, "members": 0, "threads": 0, "alert rules": 0,
        }

        if not Community.objects.exists():
            community_update(**site["community"])
            created["community"] += 1

        sections = {section.slug: section for section in Section.objects.all()}
        for position, entry in enumerate(catalogue["sections"]):
            if entry["slug"] not in sections:
                sections[entry["slug"]] = section_create(
                    name=entry["name"], slug=entry["slug"], position=position,
                    description=entry.get("description", ""),
                )
                created["sections"] += 1

        forums = {forum.slug: forum for forum in Forum.objects.all()}
        for position, entry in enumerate(catalogue["forums"]):
            if entry["slug"] not in forums:
                forums[entry["slug"]] = forum_create(
                    name=entry["name"], slug=entry["slug"], kind=entry["kind"],
                    section=sections[entry["section"]] if "section" in entry else None,
                    position=position, purpose=entry.get("purpose", ""),
                    rules="\n".join(entry.get("rules", [])),
                    requires_source_link=entry.get("requires_source_link", False),
                    is_featured=entry.get("featured", False),
                )
                created["forums"] += 1

        User = get_user_model()
        members = {member.username: member for member in User.objects.filter(
            username__in=[entry["username"] for entry in site["members"]]
        )}
        for entry in site["members"]:
            if entry["username"] not in members:
                joined = datetime.fromisoformat(entry["joined"]).replace(tzinfo=UTC)
                members[entry["username"]] = member_create(
                    username=entry["username"], display_name=entry.get("display_name", ""),
                    joined_at=joined,
                )
                created["members"] += 1

        for entry in _read("threads.toml")["threads"]:
            forum, author = forums[entry["forum"]], members[entry["author"]]
            if Thread.objects.filter(forum=forum, author=author, title=entry["title"]).exists():
                continue
            thread = thread_create(
                forum=forum, author=author, title=entry["title"], body=entry["body"].strip()
            )
            opening_post = thread.posts.get(number=0)
            for reply in entry.get("replies", []):
                reply_create(
                    author=members[reply["author"]], parent=opening_post,
                    subject=reply.get("subject", ""), body=reply["body"].strip(),
                )
            created["threads"] += 1

        rules = set(AlertRule.objects.values_list("slug", flat=True))
        for position, entry in enumerate(_read("moderation.toml")["rules"]):
            if entry["slug"] not in rules:
                alert_rule_create(
                    slug=entry["slug"], name=entry["name"],
                    description=entry.get("description", ""), position=position,
                )
                created["alert rules"] += 1

        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        # Visitors' cached pages must show what this command changed.
        page_cache.changed(page_cache.SITE)
        self.stdout.write(f"Seeds loaded: created {summary}.")
