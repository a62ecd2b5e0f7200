"""Bringing a phpBB forum over: members, sections and forums, threads and posts, polls,
hosts, suspensions and private messages.

Each step reads the source in order and writes in batches, each batch one transaction
holding its rows, their `ImportedRow` mappings and every counter they change (thread
replies and last activity, forum threads, posts and last post, members' post counts),
so an interrupted run leaves an exact site and the next run carries on where it stopped.
Rows already in the mapping are never read twice nor changed: a second run after a
final sync brings only what is new. Posts are written with bulk inserts rather than
one service call each (a million posts would take hours), but their HTML, plain text,
numbers and tree paths are made exactly as `forums.services.reply_create` makes them,
and the database's own search index (triggers on SQLite, a generated column on
PostgreSQL) takes them in as they are written.
"""

import multiprocessing
import re
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import Truncator, slugify

from accounts.hashers import PhpbbPasswordHasher
from accounts.services import member_suspend
from config import page_cache
from conversations.models import Conversation, Message, Participant
from forums.models import Forum, Section
from forums.rendering import plain_text, render_post
from forums.services import TITLE_MAX, forum_create, section_create

from ..models import ImportedRow
from .common import (
    ANONYMOUS,
    BATCH,
    FORUM_CAT,
    FORUM_LINK,
    FORUM_POST,
    GUEST_NAME,
    SOURCE,
    USER_IGNORE,
    USER_INACTIVE,
    Kind,
    chunks,
    moment,
    one_line,
    unescape,
)
from .polls import PollImport
from .posts import PostImport, convert_post, read_post
from .source import Source
from .text import to_markdown

# A line of progress at most this often on long runs.
PROGRESS_SECONDS = 10
USERNAME_CHARACTERS = re.compile(r"[^\w.@+-]+")


@dataclass
class Summary:
    """What the run did: rows imported per kind, rows skipped per kind and reason."""

    imported: Counter = field(default_factory=Counter)
    already: Counter = field(default_factory=Counter)
    skipped: dict = field(default_factory=lambda: defaultdict(Counter))
    examples: dict = field(default_factory=lambda: defaultdict(list))
    not_carried: list = field(default_factory=list)

    def skip(self, kind: str, reason: str, old_id=None) -> None:
        self.skipped[kind][reason] += 1
        if old_id is not None and len(self.examples[(kind, reason)]) < 5:
            self.examples[(kind, reason)].append(old_id)

    def lines(self) -> list[str]:
        lines = ["Imported: " + (", ".join(f"{n:,} {kind}" for kind, n in self.imported.items() if n) or "nothing new")]
        if any(self.already.values()):
            lines.append("Already imported before (left as they are): "
                         + ", ".join(f"{n:,} {kind}" for kind, n in self.already.items() if n))
        for kind, reasons in self.skipped.items():
            for reason, n in reasons.items():
                ids = self.examples.get((kind, reason))
                shown = f" (phpBB ids {', '.join(map(str, ids))}{', ...' if n > len(ids) else ''})" if ids else ""
                lines.append(f"Skipped {n:,} {kind}: {reason}{shown}")
        lines.extend(f"Not carried over: {note}" for note in self.not_carried)
        return lines


class Importer:
    """One run of the import. `progress(message)` is called on long steps."""

    def __init__(self, source: Source, *, progress=None, workers: int = 1, batch: int = BATCH,
                 dry_run: bool = False):
        self.source, self.workers, self.batch, self.dry_run = source, workers, batch, dry_run
        self.progress = progress or (lambda message: None)
        self.summary = Summary()
        self.User = get_user_model()

    # -- the mapping ------------------------------------------------------------------------------

    def mapped(self, kind: str) -> dict[int, int]:
        return dict(ImportedRow.objects.filter(source=SOURCE, kind=kind).values_list("old_id", "new_id"))

    def _map(self, kind: str, pairs) -> None:
        # One statement sent for the batch: a model instance per row was a fifth of the
        # writing process's time at a million posts.
        quote = connection.ops.quote_name
        columns = ", ".join(map(quote, ["source", "kind", "old_id", "new_id"]))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {quote(ImportedRow._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)",
                               [(SOURCE, kind, old, new) for old, new in pairs])

    def run(self) -> Summary:
        self.members()
        self.forums()
        self.threads_and_posts()
        PollImport(self).run()
        self.hosts()
        self.suspensions()
        self.conversations()
        self.not_carried_over()
        page_cache.changed(page_cache.SITE)
        return self.summary

    # -- members ----------------------------------------------------------------------------------

    def _user_rows(self):
        source = self.source
        if source.has("profile_fields_data"):
            return source.rows(
                "SELECT u.*, p.pf_phpbb_location AS location, p.pf_phpbb_website AS website "
                "FROM {t}users u LEFT JOIN {t}profile_fields_data p ON p.user_id = u.user_id "
                "ORDER BY u.user_id")
        if source.has("users", "user_from"):
            return source.rows("SELECT u.*, u.user_from AS location, u.user_website AS website "
                               "FROM {t}users u ORDER BY u.user_id")
        return source.rows("SELECT u.*, '' AS location, '' AS website FROM {t}users u ORDER BY u.user_id")

    def members(self) -> None:
        """phpBB users -> members; the guest account -> one "Guest" member for guests' posts."""
        done = self.mapped(Kind.MEMBER)
        taken = set(self.User.objects.values_list(Lower("username"), flat=True))
        emails = set(EmailAddress.objects.values_list(Lower("email"), flat=True))
        pending = []
        websites = 0
        for row in self._user_rows():
            old_id = row["user_id"]
            if old_id in done:
                self.summary.already["members"] += 1
                continue
            if old_id == ANONYMOUS:
                pending.append((old_id, self._new_member(GUEST_NAME, taken, active=True), None))
                continue
            if row["user_type"] == USER_IGNORE:
                self.summary.skip("members", "search-engine bots", old_id)
                continue
            name = unescape(row["username"])
            if not name:
                self.summary.skip("members", "no username", old_id)
                continue
            member = self._new_member(name, taken, active=row["user_type"] != USER_INACTIVE)
            member.date_joined = moment(row["user_regdate"])
            member.email = (row["user_email"] or "").strip()[:254]
            member.hometown = one_line(unescape(row.get("location")), 80)
            if (row.get("website") or "").strip():
                websites += 1
            if (row["user_sig"] or "").strip():
                signature = plain_text(render_post(to_markdown(row["user_sig"], row["user_sig_bbcode_uid"])))
                member.slogan = Truncator(signature).chars(200)
            password = row["user_password"] or ""
            member.password = (PhpbbPasswordHasher.wrap(password) if PhpbbPasswordHasher.recognises(password)
                               else "!" + secrets.token_urlsafe(30))
            email = member.email.lower()
            address = None
            if email and email not in emails:
                emails.add(email)
                address = email
            elif email:
                self.summary.skip("email addresses", "already used by another member (kept on the "
                                  "account, but not for logging in)", old_id)
            pending.append((old_id, member, address))
        if websites:
            self.summary.not_carried.append(
                f"{websites:,} members' websites (Grassroots profiles have no website field)")
        for start in range(0, len(pending), self.batch):
            self._save_members(pending[start:start + self.batch])
        self.progress(f"members: {len(pending):,} imported")

    def _new_member(self, name: str, taken: set[str], *, active: bool):
        base = USERNAME_CHARACTERS.sub("_", name).strip("_")[:140] or "member"
        if len(base) < 3:
            base = (base + "___")[:3]
        username, n = base, 1
        while username.lower() in taken:
            n += 1
            username = f"{base}_{n}"
        taken.add(username.lower())
        return self.User(username=username, display_name=name[:60] if name != username else "",
                         is_active=active, date_joined=timezone.now(),
                         password="!" + secrets.token_urlsafe(30))

    @transaction.atomic
    def _save_members(self, pending) -> None:
        members = self.User.objects.bulk_create([member for _, member, _ in pending])
        EmailAddress.objects.bulk_create([
            EmailAddress(user=member, email=member.email, verified=True, primary=True)
            for (_, member, address) in pending if address
        ])
        self._map(Kind.MEMBER, [(old_id, member.pk) for (old_id, _, _), member in zip(pending, members)])
        self.summary.imported["members"] += len(members)

    # -- sections and forums ----------------------------------------------------------------------

    @transaction.atomic
    def forums(self) -> None:
        """Categories -> sections; forums and subforums -> forums in their category's section."""
        sections, forums = self.mapped(Kind.SECTION), self.mapped(Kind.FORUM)
        rows = list(self.source.rows("SELECT * FROM {t}forums ORDER BY left_id, forum_id"))
        by_id = {row["forum_id"]: row for row in rows}
        section_slugs = set(Section.objects.values_list("slug", flat=True))
        forum_slugs = set(Forum.objects.values_list("slug", flat=True))
        section_position = (Section.objects.aggregate(n=Max("position"))["n"] or 0) + 1
        forum_position = (Forum.objects.aggregate(n=Max("position"))["n"] or 0) + 1
        for row in rows:
            old_id, kind = row["forum_id"], row["forum_type"]
            name = one_line(unescape(row["forum_name"]), 100) or f"Forum {old_id}"
            description = plain_text(render_post(to_markdown(row["forum_desc"] or "", row["forum_desc_uid"])))
            if kind == FORUM_CAT:
                if old_id in sections:
                    self.summary.already["sections"] += 1
                    continue
                section = section_create(name=name[:80], slug=_unique_slug(name, section_slugs, 80),
                                         position=section_position, description=description)
                section_position += 1
                sections[old_id] = section.pk
                self._map(Kind.SECTION, [(old_id, section.pk)])
                self.summary.imported["sections"] += 1
            elif kind == FORUM_POST:
                if old_id in forums:
                    self.summary.already["forums"] += 1
                    continue
                section_id = self._category_of(row, by_id, sections)
                forum = forum_create(
                    name=name, slug=_unique_slug(name, forum_slugs, 100),
                    kind=Forum.Kind.TOPIC if section_id else Forum.Kind.MAIN,
                    section=Section.objects.get(pk=section_id) if section_id else None,
                    position=forum_position, purpose=description,
                )
                forum_position += 1
                forums[old_id] = forum.pk
                self._map(Kind.FORUM, [(old_id, forum.pk)])
                self.summary.imported["forums"] += 1
            elif kind == FORUM_LINK:
                self.summary.skip("forums", "link forums (a link to another site, no posts)", old_id)
            else:
                self.summary.skip("forums", f"unknown forum type {kind}", old_id)

    @staticmethod
    def _category_of(row, by_id, sections) -> int | None:
        """The section of the nearest category above the forum (phpBB nests; we do not)."""
        seen = set()
        parent = by_id.get(row["parent_id"])
        while parent is not None and parent["forum_id"] not in seen:
            seen.add(parent["forum_id"])
            if parent["forum_type"] == FORUM_CAT:
                return sections.get(parent["forum_id"])
            parent = by_id.get(parent["parent_id"])
        return None

    # -- threads and posts ------------------------------------------------------------------------

    def threads_and_posts(self) -> None:
        """Topics -> threads, posts -> opening posts and replies (a reply answers the post it
        quotes, else the opening post), in batches of whole topics."""
        state = PostImport(self)
        total = self.source.scalar("SELECT COUNT(*) FROM {t}posts") or 0
        visibility = "post_visibility" if self.source.has("posts", "post_visibility") else "post_approved"
        rows = self.source.rows(
            f"SELECT post_id, topic_id, poster_id, post_time, post_subject, post_text, bbcode_uid, "
            f"post_attachment, post_username, {visibility} AS visibility "
            "FROM {t}posts ORDER BY topic_id, post_time, post_id")
        started, seen = time.monotonic(), 0
        reported = started
        # A dry run's writes are rolled back: it reads the text without rendering it.
        convert = read_post if self.dry_run else convert_post
        pool = None
        if self.workers > 1:
            # fork: the workers inherit the loaded Markdown and bleach set-up.
            pool = multiprocessing.get_context("fork").Pool(self.workers)
        try:
            # The workers convert the next chunk while this process writes the last one.
            converting = None
            for chunk in chunks(rows, self.batch):
                wanted = state.select(chunk)
                sources = [(row["post_text"], row["bbcode_uid"]) for row in wanted]
                job = pool.map_async(convert, sources, chunksize=25) if pool else map(convert, sources)
                if converting is not None:
                    state.add(converting[0], converting[1].get() if pool else converting[1])
                converting = (wanted, job)
                seen += len(chunk)
                now = time.monotonic()
                if now - reported >= PROGRESS_SECONDS or seen >= total:
                    reported = now
                    self.progress(f"posts: {seen:,} of {total:,} read ({100 * seen // max(total, 1)}%), "
                                  f"{seen / max(now - started, 0.001):,.0f} posts/s")
            if converting is not None:
                state.add(converting[0], converting[1].get() if pool else converting[1])
            state.finish()
        finally:
            if pool is not None:
                pool.close()
                pool.join()

    # -- hosts, suspensions, messages -------------------------------------------------------------

    @transaction.atomic
    def hosts(self) -> None:
        """Forum moderators -> hosts of their forums."""
        if not self.source.has("moderator_cache"):
            return
        members, forums = self.mapped(Kind.MEMBER), self.mapped(Kind.FORUM)
        through = Forum.hosts.through
        existing = set(through.objects.values_list("forum_id", "user_id"))
        new = []
        for row in self.source.rows("SELECT forum_id, user_id FROM {t}moderator_cache ORDER BY forum_id, user_id"):
            if not row["user_id"]:
                self.summary.skip("forum moderators", "groups of moderators (appoint their members as "
                                  "hosts in the admin)")
                continue
            pair = (forums.get(row["forum_id"]), members.get(row["user_id"]))
            if None in pair:
                self.summary.skip("forum moderators", "their forum or member was not imported")
            elif pair in existing:
                self.summary.already["hosts"] += 1
            else:
                existing.add(pair)
                new.append(through(forum_id=pair[0], user_id=pair[1]))
        through.objects.bulk_create(new)
        self.summary.imported["hosts"] += len(new)

    @transaction.atomic
    def suspensions(self) -> None:
        """Bans of members -> suspensions (until the ban ends; without end for permanent bans)."""
        if not self.source.has("banlist"):
            return
        members, done = self.mapped(Kind.MEMBER), self.mapped(Kind.SUSPENSION)
        now = timezone.now()
        for row in self.source.rows("SELECT * FROM {t}banlist ORDER BY ban_id"):
            old_id = row["ban_id"]
            if old_id in done:
                self.summary.already["suspensions"] += 1
                continue
            if not row["ban_userid"]:
                self.summary.skip("bans", "bans of IP addresses or email addresses", old_id)
                continue
            if row["ban_exclude"]:
                self.summary.skip("bans", "exclusions from a ban", old_id)
                continue
            until = moment(row["ban_end"]) if row["ban_end"] else None
            if until is not None and until <= now:
                self.summary.skip("bans", "already over", old_id)
                continue
            member_id = members.get(row["ban_userid"])
            if member_id is None:
                self.summary.skip("bans", "the member was not imported", old_id)
                continue
            reason = unescape(row["ban_give_reason"]) or unescape(row["ban_reason"]) or "Banned on the old forum."
            member_suspend(member=self.User.objects.get(pk=member_id), reason=reason[:300], until=until)
            self._map(Kind.SUSPENSION, [(old_id, member_id)])
            self.summary.imported["suspensions"] += 1

    def conversations(self) -> None:
        """Private messages -> conversations: a message and the replies to it are one
        conversation with everyone who wrote or received them, imported as read."""
        if not (self.source.has("privmsgs") and self.source.has("privmsgs_to")):
            return
        members = self.mapped(Kind.MEMBER)
        recipients = defaultdict(set)
        for row in self.source.rows("SELECT msg_id, user_id FROM {t}privmsgs_to"):
            if row["user_id"] in members:
                recipients[row["msg_id"]].add(members[row["user_id"]])
        rows = self.source.rows("SELECT * FROM {t}privmsgs ORDER BY msg_id")
        for chunk in chunks(rows, self.batch):
            self._save_messages(chunk, members, recipients)

    @transaction.atomic
    def _save_messages(self, rows, members, recipients) -> None:
        """A batch of messages in bulk: new conversations, messages numbered after what
        their conversation holds, and every participant's seat, as read."""
        done = set(ImportedRow.objects.filter(
            source=SOURCE, kind=Kind.MESSAGE, old_id__in=[row["msg_id"] for row in rows]
        ).values_list("old_id", flat=True))
        roots = {row["root_level"] or row["msg_id"] for row in rows}
        conversations = dict(ImportedRow.objects.filter(
            source=SOURCE, kind=Kind.CONVERSATION, old_id__in=roots).values_list("old_id", "new_id"))
        loaded = Conversation.objects.in_bulk(list(conversations.values()))
        by_root = {root: loaded[pk] for root, pk in conversations.items() if pk in loaded}
        new_roots, messages = [], []
        for row in rows:
            old_id = row["msg_id"]
            if old_id in done:
                self.summary.already["messages"] += 1
                continue
            author_id = members.get(row["author_id"])
            if author_id is None:
                self.summary.skip("messages", "the author was not imported", old_id)
                continue
            root, sent_at = row["root_level"] or old_id, moment(row["message_time"])
            if root not in by_root:
                subject = one_line(unescape(row["message_subject"]), TITLE_MAX) or "(no subject)"
                by_root[root] = Conversation(subject=subject, started_by_id=author_id, created_at=sent_at,
                                             last_message_at=sent_at)
                new_roots.append(root)
            body = to_markdown(row["message_text"] or "", row["bbcode_uid"] or "")
            messages.append((old_id, root, author_id, sent_at, body, render_post(body)))
        Conversation.objects.bulk_create([by_root[root] for root in new_roots])
        self._map(Kind.CONVERSATION, [(root, by_root[root].pk) for root in new_roots])
        touched = {root: by_root[root] for _, root, *_ in messages}
        seats = {(seat.conversation_id, seat.member_id): seat
                 for seat in Participant.objects.filter(conversation__in=[c.pk for c in touched.values()])}
        existing_seats = set(seats)
        created = []
        for old_id, root, author_id, sent_at, body, body_html in messages:
            conversation = touched[root]
            conversation.message_count += 1
            conversation.last_message_at = max(conversation.last_message_at, sent_at)
            created.append(Message(conversation=conversation, author_id=author_id, body=body, body_html=body_html,
                                   number=conversation.message_count, created_at=sent_at))
            for member_id in recipients.get(old_id, set()) | {author_id}:
                seat = seats.setdefault((conversation.pk, member_id), Participant(
                    conversation=conversation, member_id=member_id, joined_at=sent_at, last_message_at=sent_at))
                if member_id == author_id:
                    seat.last_sent_at = max(seat.last_sent_at or sent_at, sent_at)
        Message.objects.bulk_create(created)
        Conversation.objects.bulk_update(touched.values(), ["message_count", "last_message_at"])
        by_pk = {conversation.pk: conversation for conversation in touched.values()}
        for seat in seats.values():
            seat.last_message_at = seat.last_read_at = by_pk[seat.conversation_id].last_message_at
        Participant.objects.bulk_create([seat for key, seat in seats.items() if key not in existing_seats])
        Participant.objects.bulk_update([seat for key, seat in seats.items() if key in existing_seats],
                                        ["last_message_at", "last_read_at", "last_sent_at"])
        self._map(Kind.MESSAGE, [(old_id, message.pk) for (old_id, *_), message in zip(messages, created)])
        self.summary.imported["conversations"] += len(new_roots)
        self.summary.imported["messages"] += len(created)

    def not_carried_over(self) -> None:
        source = self.source
        attachments = source.scalar("SELECT COUNT(*) FROM {t}posts WHERE post_attachment = 1") or 0
        if attachments:
            self.summary.not_carried.append(f"the attachments of {attachments:,} posts (files; "
                                            "the posts keep their text)")


def _unique_slug(name: str, taken: set[str], limit: int) -> str:
    base = (slugify(name)[: limit - 4].strip("-")) or "forum"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug
