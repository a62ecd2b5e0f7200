"""The posts step: topics -> threads, posts -> opening posts and replies, in batches of
whole topics written with bulk inserts (see community/phpbb/importer.py)."""

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils.text import Truncator

from forums.models import Forum, Post, Thread
from forums.rendering import own_words, plain_text, render_post
from forums.services import REPLY_PREFIX, SUBJECT_WORDS, TITLE_MAX, _thread_slug

from ..models import ImportedRow
from .common import (
    ANONYMOUS,
    GUEST_NAME,
    ITEM_APPROVED,
    ITEM_DELETED,
    ITEM_LOCKED,
    ITEM_MOVED,
    POST_STICKY,
    SOURCE,
    Kind,
    moment,
    one_line,
    unescape,
)
from .text import quoted_post_ids, to_markdown


def convert_post(row: tuple[str, str]) -> tuple[str, str, str, str, list[int]] | None:
    """(text, uid) of a phpBB post -> Markdown, HTML, plain text, a subject from the
    poster's own words, and the posts it quotes; None when the text cannot be read.
    Pure, so it runs in worker processes."""
    try:
        return _convert(*row)
    except Exception:  # noqa: BLE001 - one unreadable post is skipped, not the run
        return None


def read_post(row: tuple[str, str]) -> tuple[str, str, str, str, list[int]] | None:
    """What a dry run needs of a post: that its text reads as phpBB text, and the posts
    it quotes (they place it in its thread's tree). Rendering, most of a real run's
    work, is left out; the HTML, plain text and subject are left empty."""
    try:
        text, uid = row[0] or "", row[1] or ""
        return to_markdown(text, uid), "", "", "", quoted_post_ids(text, uid)
    except Exception:  # noqa: BLE001 - as convert_post
        return None


def _convert(text: str, uid: str) -> tuple[str, str, str, str, list[int]]:
    body = to_markdown(text or "", uid or "")
    body_html = render_post(body)
    body_text = plain_text(body_html)
    own = own_words(body_html) if "<blockquote>" in body_html else body_text
    subject = Truncator(own).words(SUBJECT_WORDS, truncate="…")[:TITLE_MAX] if own else ""
    return body, body_html, body_text, subject, quoted_post_ids(text or "", uid or "")


@dataclass
class _Node:
    """A post of the thread being imported: its id (once allocated), tree path and depth."""

    id: int | None
    tree_path: str
    depth: int


@dataclass
class _ThreadState:
    topic_id: int
    thread: Thread
    is_new: bool
    reply_count: int
    nodes: dict = field(default_factory=dict)  # phpBB post id -> _Node
    opening: _Node | None = None
    last_at: datetime | None = None
    last_author: int | None = None
    last_node: _Node | None = None
    new_posts: int = 0


class PostImport:
    """The posts step's state: topics read up front, posts streamed in topic order and
    written a batch of whole topics at a time."""

    def __init__(self, importer):
        self.importer = importer
        self.summary = importer.summary
        source = importer.source
        self.members = importer.mapped(Kind.MEMBER)
        self.forums = importer.mapped(Kind.FORUM)
        self.threads = importer.mapped(Kind.THREAD)
        self.done_posts = set(ImportedRow.objects.filter(source=SOURCE, kind=Kind.POST)
                              .values_list("old_id", flat=True))
        visibility = "topic_visibility" if source.has("topics", "topic_visibility") else "topic_approved"
        self.topics = {
            row["topic_id"]: row for row in source.rows(
                f"SELECT topic_id, forum_id, topic_title, topic_time, topic_views, topic_status, "
                f"topic_type, {visibility} AS visibility FROM {{t}}topics")
        }
        self.versioned = visibility == "topic_visibility"
        self.topic_problems: dict[int, str | None] = {}
        self.current: _ThreadState | None = None
        self.current_topic = None
        self.pending_threads: list[_ThreadState] = []
        self.pending_posts: list[dict] = []

    def _visible(self, state: int) -> str | None:
        """Why a row with this visibility is not imported (None: it is)."""
        if not self.versioned:
            return None if state else "waiting for approval"
        return {ITEM_APPROVED: None, ITEM_DELETED: "soft-deleted"}.get(state, "waiting for approval")

    def _topic_problem(self, topic) -> str | None:
        if topic is None:
            return "their topic does not exist"
        if topic["topic_status"] == ITEM_MOVED:
            return "moved-topic links (the topic itself is imported where it now is)"
        problem = self._visible(topic["visibility"])
        if problem:
            return problem
        if topic["forum_id"] not in self.forums:
            return "their forum was not imported (link forums, or global announcements without a forum)"
        return None

    def select(self, rows: list[dict]) -> list[dict]:
        """The rows to import: not imported before, visible, in a topic that is imported.
        Reads no state the writes change, so it may run ahead of them."""
        wanted = []
        for row in rows:
            topic_id, old_id = row["topic_id"], row["post_id"]
            if old_id in self.done_posts:
                self.summary.already["posts"] += 1
                continue
            if topic_id in self.threads:
                problem = None
            elif topic_id in self.topic_problems:
                problem = self.topic_problems[topic_id]
            else:
                problem = self.topic_problems[topic_id] = self._topic_problem(self.topics.get(topic_id))
                if problem:
                    self.summary.skip("topics", problem, topic_id)
            if problem:
                self.summary.skip("posts", "in a topic that was not imported")
                continue
            post_problem = self._visible(row["visibility"])
            if post_problem:
                self.summary.skip("posts", post_problem, old_id)
                continue
            wanted.append(row)
        return wanted

    def add(self, wanted: list[dict], converted) -> None:
        """Add the selected rows, with their converted text, to the pending batch."""
        for row, result in zip(wanted, converted):
            if result is None:
                self.summary.skip("posts", "text that could not be converted", row["post_id"])
                continue
            if row["topic_id"] != self.current_topic:
                self._topic_done()
                if len(self.pending_posts) >= self.importer.batch:
                    self.flush()
                self._topic_start(row["topic_id"])
            self._add(row, *result)

    def finish(self) -> None:
        self._topic_done()
        self.flush()

    def _topic_start(self, topic_id: int) -> None:
        self.current_topic = topic_id
        if topic_id in self.threads:
            # New posts in a thread of an earlier run: carry on from what is there.
            thread = Thread.objects.get(pk=self.threads[topic_id])
            state = _ThreadState(topic_id=topic_id, thread=thread, is_new=False,
                                 reply_count=thread.reply_count, last_at=thread.last_activity_at,
                                 last_author=thread.last_poster_id)
            posts = {post.pk: post for post in
                     Post.objects.filter(thread=thread).only("pk", "tree_path", "depth", "number")}
            mapping = ImportedRow.objects.filter(source=SOURCE, kind=Kind.POST, new_id__in=list(posts))
            for old, new in mapping.values_list("old_id", "new_id"):
                post = posts[new]
                state.nodes[old] = _Node(post.pk, post.tree_path, post.depth)
                if post.number == 0:
                    state.opening = state.nodes[old]
            if state.opening is None:
                opening = next(post for post in posts.values() if post.number == 0)
                state.opening = _Node(opening.pk, "", 0)
        else:
            topic = self.topics[topic_id]
            title = one_line(unescape(topic["topic_title"]), TITLE_MAX) or "(no title)"
            thread = Thread(
                forum_id=self.forums[topic["forum_id"]], title=title, slug=_thread_slug(title),
                is_pinned=topic["topic_type"] >= POST_STICKY, is_locked=topic["topic_status"] == ITEM_LOCKED,
                view_count=topic["topic_views"] or 0,
            )
            state = _ThreadState(topic_id=topic_id, thread=thread, is_new=True, reply_count=0)
        self.current = state

    def _author(self, row) -> int:
        member = self.members.get(row["poster_id"])
        # Guests' posts, and posts of accounts phpBB deleted, are by the guest account.
        return member if member is not None else self.members.get(ANONYMOUS) or self._guest()

    def _guest(self) -> int:
        importer = self.importer
        taken = set(importer.User.objects.values_list(Lower("username"), flat=True))
        member = importer._new_member(GUEST_NAME, taken, active=True)
        importer._save_members([(ANONYMOUS, member, None)])
        self.members[ANONYMOUS] = member.pk
        return member.pk

    def _add(self, row, body, body_html, body_text, own_subject, quoted) -> None:
        state = self.current
        thread = state.thread
        author = self._author(row)
        created = moment(row["post_time"])
        if state.opening is None:
            node = _Node(None, "", 0)
            state.opening = node
            thread.author_id = author
            thread.created_at = created
            number, parent, subject = 0, None, thread.title
        else:
            parent = next((state.nodes[q] for q in quoted if q in state.nodes), state.opening)
            state.reply_count += 1
            number = state.reply_count
            segment = str(number).zfill(Post.NUMBER_WIDTH)
            if parent.depth < Post.MAX_DEPTH:
                node = _Node(None, parent.tree_path + segment, parent.depth + 1)
            else:
                node = _Node(None, parent.tree_path[: -Post.NUMBER_WIDTH] + segment, parent.depth)
            subject = one_line(unescape(row["post_subject"]), TITLE_MAX)
            if not subject or subject == REPLY_PREFIX + thread.title:
                subject = own_subject or (REPLY_PREFIX + thread.title)[:TITLE_MAX]
        state.nodes[row["post_id"]] = node
        state.last_at, state.last_author, state.last_node = created, author, node
        state.new_posts += 1
        self.pending_posts.append({
            "old_id": row["post_id"], "node": node, "parent": parent, "state": state, "author_id": author,
            "number": number, "subject": subject, "body": body, "body_html": body_html,
            "body_text": body_text, "created_at": created,
        })

    def _topic_done(self) -> None:
        if self.current is not None and self.current.new_posts:
            self.pending_threads.append(self.current)
        self.current, self.current_topic = None, None

    def flush(self) -> None:
        if not self.pending_posts:
            return
        self._write(self.pending_threads, self.pending_posts)
        self.pending_threads, self.pending_posts = [], []

    @transaction.atomic
    def _write(self, states: list[_ThreadState], posts: list[dict]) -> None:
        importer, summary = self.importer, self.summary
        new_states = [state for state in states if state.is_new]
        for state in new_states:
            thread = state.thread
            thread.reply_count = state.reply_count
            thread.last_activity_at, thread.last_poster_id = state.last_at, state.last_author
        # The threads first: on SQLite this also takes the write lock, so the post ids
        # allocated next cannot be taken by anyone else before the posts are written.
        Thread.objects.bulk_create([state.thread for state in new_states], batch_size=importer.batch)
        ids = _allocate_post_ids(len(posts))
        for post, new_id in zip(posts, ids):
            post["node"].id = new_id
        columns = ["id", "thread_id", "author_id", "parent_id", "number", "tree_path", "depth", "subject",
                   "body", "body_html", "body_text", "created_at", "recommendation_count", "edit_count",
                   "is_deleted", "is_hidden"]
        adapt = connection.ops.adapt_datetimefield_value
        rows = [
            (post["node"].id, post["state"].thread.pk, post["author_id"],
             post["parent"].id if post["parent"] else None, post["number"], post["node"].tree_path,
             post["node"].depth, post["subject"], post["body"], post["body_html"], post["body_text"],
             adapt(post["created_at"]), 0, 0, False, False)
            for post in posts
        ]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor, _search_index_in_bulk(cursor, ids):
            cursor.executemany(
                f"INSERT INTO {quote(Post._meta.db_table)} ({', '.join(map(quote, columns))}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})", rows)
        importer._map(Kind.THREAD, [(state.topic_id, state.thread.pk) for state in new_states])
        importer._map(Kind.POST, [(post["old_id"], post["node"].id) for post in posts])
        for state in new_states:
            self.threads[state.topic_id] = state.thread.pk
        self.done_posts.update(post["old_id"] for post in posts)
        # Threads of an earlier run that got new replies.
        old_states = [state for state in states if not state.is_new]
        for state in old_states:
            state.thread.reply_count = state.reply_count
            state.thread.last_activity_at, state.thread.last_poster_id = state.last_at, state.last_author
        Thread.objects.bulk_update([state.thread for state in old_states],
                                   ["reply_count", "last_activity_at", "last_poster"])
        self._count(states, posts)
        summary.imported["threads"] += len(new_states)
        summary.imported["posts"] += len(posts)
        for state in states:
            state.new_posts = 0

    def _count(self, states, posts) -> None:
        """Add the batch to its forums' and authors' counters (rows locked, in id order)."""
        forum_threads, forum_posts, forum_last = Counter(), Counter(), {}
        for state in states:
            forum_id = state.thread.forum_id
            forum_threads[forum_id] += int(state.is_new)
        for post in posts:
            forum_id = post["state"].thread.forum_id
            forum_posts[forum_id] += 1
            last = forum_last.get(forum_id)
            if last is None or (post["created_at"], post["node"].id) > last:
                forum_last[forum_id] = (post["created_at"], post["node"].id)
        for forum in Forum.objects.select_for_update().filter(pk__in=list(forum_posts)).order_by("pk"):
            forum.thread_count += forum_threads[forum.pk]
            forum.post_count += forum_posts[forum.pk]
            created, post_id = forum_last[forum.pk]
            if forum.last_post_at is None or created >= forum.last_post_at:
                forum.last_post_id, forum.last_post_at = post_id, created
            forum.save(update_fields=["thread_count", "post_count", "last_post", "last_post_at"])
        authored, last_posted = Counter(), {}
        for post in posts:
            authored[post["author_id"]] += 1
            previous = last_posted.get(post["author_id"], post["created_at"])
            last_posted[post["author_id"]] = max(previous, post["created_at"])
        # One statement per author, sent as one batch: bulk_update's CASE over thousands
        # of ids costs SQLite a comparison per id per row.
        User = self.importer.User
        adapt = connection.ops.adapt_datetimefield_value
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {quote(User._meta.db_table)} SET post_count = post_count + %s, "
                "last_posted_at = CASE WHEN last_posted_at IS NULL OR last_posted_at < %s THEN %s "
                "ELSE last_posted_at END WHERE id = %s",
                [(count, adapt(last_posted[member_id]), adapt(last_posted[member_id]), member_id)
                 for member_id, count in sorted(authored.items())],
            )


# SQLite's search index is filled by a trigger on each post inserted
# (forums/search.py): `INSERT INTO index(rowid, a, b) VALUES (new.id, new.a, new.b)`.
_INDEX_TRIGGER = re.compile(
    r"BEGIN\s+INSERT\s+INTO\s+(?P<index>\w+)\s*\((?P<columns>[\w\s,]+)\)\s*"
    r"VALUES\s*\((?P<values>(?:\s*new\.\w+\s*,?)+)\)\s*;\s*END\s*$", re.IGNORECASE)


@contextmanager
def _search_index_in_bulk(cursor, ids: list[int]):
    """On SQLite, index the batch's posts in one statement after inserting them rather
    than by the insert trigger row by row: a third of the cost of the inserts (measured
    at 2,000 posts: 0.27 CPU seconds with the trigger, 0.08 without). The trigger is
    dropped and made again inside the batch's transaction, which holds the write lock,
    so no other writer ever runs without it, and an interrupted batch rolls back with
    its posts. A trigger of another shape is left to do its work."""
    trigger = None
    if connection.vendor == "sqlite" and ids:
        table = Post._meta.db_table
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
                       "AND sql LIKE %s", [table, "%AFTER INSERT%"])
        found = cursor.fetchall()
        match = _INDEX_TRIGGER.search(found[0][1]) if len(found) == 1 else None
        trigger = (found[0], match) if match else None
    if trigger is None:
        yield
        return
    (name, sql), match = trigger
    cursor.execute(f'DROP TRIGGER "{name}"')
    yield
    values = match["values"].replace("new.", "")
    cursor.execute(f"INSERT INTO {match['index']} ({match['columns']}) SELECT {values} "
                   f"FROM {connection.ops.quote_name(Post._meta.db_table)} WHERE id BETWEEN %s AND %s",
                   [min(ids), max(ids)])
    cursor.execute(sql)


def _allocate_post_ids(count: int) -> list[int]:
    """Ids for `count` new posts, taken so that nobody else's insert can collide with them:
    from the sequence on PostgreSQL, after the highest id under the write lock on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [Post._meta.db_table, count])
            return [row[0] for row in cursor.fetchall()]
    first = (Post.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
    return list(range(first, first + count))
