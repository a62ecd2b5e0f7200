"""Generate a large, realistic, deterministic data set for benchmarks and demos.

Posts get the same rendered HTML, plain text, numbers, tree paths and counters that
the posting services give them, and the database's own triggers index them for
search, so the data is indistinguishable from posted data. Bodies come from a pool
rendered once through forums.rendering (rendering a million bodies one by one would
take longer than inserting them).
"""

import random
import time
from contextlib import contextmanager
from importlib import import_module
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, transaction
from django.core.management.color import no_style
from django.db.models import Max
from django.utils import timezone

from config import page_cache
from forums.models import Forum, Post, Thread
from forums.rendering import plain_text, render_post
from forums.services import _thread_slug

WORDS = (
    "vote election senate house budget climate energy solar wind union labor strike wages "
    "health care medicare insurance court justice rights voting district county state city "
    "school teachers students tax policy bill law reform campaign candidate poll rally "
    "debate economy jobs inflation housing rent transit rail water farm drought fire storm "
    "treaty sanctions embassy ukraine europe asia africa border refugees aid trade tariff "
    "coalition governor mayor council primary caucus ballot turnout volunteer canvass "
    "donation report article source analysis opinion editorial history science data study"
).split()
# The trigger that keeps the search index, as its migration creates it.
SQLITE_FTS_INSERT_TRIGGER = next(
    sql for sql in import_module("forums.migrations.0006_search").SQLITE_UP
    if "TRIGGER forums_post_fts_insert" in sql
)
BODY_POOL = 400
BATCH = 5000


def _sentence(rng):
    words = rng.choices(WORDS, k=rng.randint(6, 16))
    return " ".join(words).capitalize() + "."


def _body(rng):
    paragraphs = []
    for _ in range(rng.randint(1, 4)):
        paragraphs.append(" ".join(_sentence(rng) for _ in range(rng.randint(1, 4))))
    if rng.random() < 0.15:
        paragraphs.insert(0, "> " + _sentence(rng))
    if rng.random() < 0.1:
        paragraphs.append(f"Source: https://news.example.org/{rng.randint(1, 99999)}")
    return "\n\n".join(paragraphs)


def _reply_counts(rng, threads: int, replies: int, hot: int) -> list[int]:
    """Most threads short, a few with thousands of replies, one hot thread."""
    weights = [rng.paretovariate(1.3) for _ in range(threads)]
    weights[0] = 0  # the hot thread gets exactly `hot`
    big = sorted(range(1, threads), key=lambda i: -weights[i])[: max(1, threads // 2000)]
    remaining = max(replies - hot, 0)
    total = sum(weights)
    counts = [int(remaining * w / total) for w in weights]
    counts[0] = min(hot, replies)
    for index in big:
        # Thousands of replies, but never more than a small data set has to give.
        counts[index] = max(counts[index], min(rng.randint(1000, 3000), remaining // (2 * len(big))))
    # Make the total exact by trimming or topping up the ordinary threads (then the
    # big ones, then the hot one, should the ordinary ones run out).
    difference = replies - sum(counts)
    big_set = set(big)
    ordinary = [i for i in range(1, threads) if i not in big_set]
    for group in (ordinary, big, [0]):
        while difference:
            changed = False
            for index in group:
                if difference > 0:
                    counts[index] += 1
                    difference -= 1
                    changed = True
                elif difference < 0 and counts[index] > 0:
                    counts[index] -= 1
                    difference += 1
                    changed = True
            if not changed:  # every thread of the group is down to no replies
                break
    return counts


@contextmanager
def _bulk_load():
    """On SQLite, write a large load straight into the database file: a rollback
    journal instead of the write-ahead log (which would hold a second copy of every
    page until the end), no fsync per batch, and a page cache big enough for the
    indexes. A failed load still rolls back; the usual settings come back after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (journal_mode,) = cursor.fetchone()
        try:
            cursor.execute("PRAGMA journal_mode=TRUNCATE")
        except OperationalError:
            # Leaving WAL needs the only connection to the file; with the site (or
            # anything else) connected, load through the WAL instead, only slower.
            pass
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1048576")  # KiB: 1 GiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-2000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA journal_mode={journal_mode}")


@contextmanager
def _search_index_filled_at_the_end():
    """SQLite's FTS5 table is kept by a trigger per row; for a bulk load it is cheaper
    to add the new posts to it in one statement. Inside the caller's transaction, so
    the trigger is back (and the index complete) whatever happens."""
    if connection.vendor != "sqlite":
        yield
        return
    first_new = (Post.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER forums_post_fts_insert")
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO forums_post_fts(rowid, subject, body_text) "
            "SELECT id, subject, body_text FROM forums_post WHERE id >= %s",
            [first_new],
        )
        cursor.execute(SQLITE_FTS_INSERT_TRIGGER)


class Command(BaseCommand):
    help = "Generate demo members, threads and posts (deterministic with --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--threads", type=int, default=40_000)
        parser.add_argument("--posts", type=int, default=1_000_000, help="opening posts and replies")
        parser.add_argument("--hot-thread", type=int, default=5000, help="replies in the hot thread")
        parser.add_argument("--forums", type=int, default=0, help="use only the first N forums (0: all)")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, members, threads, posts, hot_thread, forums, seed, **options):
        if threads < 1 or posts < threads:
            raise CommandError("Need at least one thread, and at least as many posts as threads.")
        started = time.monotonic()
        rng = random.Random(seed)
        if not Forum.objects.exists():
            call_command("load_seeds", verbosity=0)
        forum_list = list(Forum.objects.order_by("position", "pk"))
        if forums:
            forum_list = forum_list[:forums]
        bodies = [_body(rng) for _ in range(BODY_POOL)]
        rendered = [
            (body, html, text, " ".join(text.split()[:8])[:150])
            for body in bodies
            for html in [render_post(body)]
            for text in [plain_text(html)]
        ]
        now = timezone.now()

        with _bulk_load(), transaction.atomic():
            people = self._members(rng, members, now)
            counts = _reply_counts(rng, threads, posts - threads, hot_thread)
            with _search_index_filled_at_the_end():
                self._threads(rng, forum_list, people, counts, rendered, now)
        with connection.cursor() as cursor:
            # Fresh statistics, or the planner guesses row counts from an empty database.
            cursor.execute("ANALYZE")
        page_cache.changed(page_cache.SITE)
        self.stdout.write(
            f"Generated {members} members, {threads} threads and {posts} posts "
            f"in {time.monotonic() - started:.0f} s."
        )

    def _members(self, rng, count, now):
        User = get_user_model()
        start = (User.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        password = make_password(None)  # unusable: demo members cannot log in
        people = [
            User(
                username=f"demo{start + n}", display_name=f"Demo Member {start + n}",
                password=password, date_joined=now - timedelta(days=rng.randint(1, 3650)),
                jury_available=rng.random() < 0.8,
            )
            for n in range(count)
        ]
        User.objects.bulk_create(people, batch_size=BATCH)
        return list(User.objects.filter(username__startswith="demo").order_by("pk"))[-count:]

    def _threads(self, rng, forum_list, people, counts, rendered, now):
        User = get_user_model()
        post_counts: dict[int, int] = {}
        forum_stats = {forum.pk: [0, 0, None] for forum in forum_list}  # threads, posts, last post
        pending_posts: list[Post] = []
        thread_rows = []
        # Forum traffic is skewed too: the first forums (the main ones) are busiest.
        forum_weights = [1 / (1 + index) ** 0.8 for index in range(len(forum_list))]
        for index, replies in enumerate(counts):
            forum = forum_list[0] if index == 0 else rng.choices(forum_list, forum_weights)[0]
            author = rng.choice(people)
            created = now - timedelta(seconds=rng.randint(3600, 365 * 86400))
            body, html, text, _subject = rng.choice(rendered)
            title = " ".join(rng.choices(WORDS, k=rng.randint(3, 9))).capitalize()
            if index == 0:
                title = "Hot thread: " + title
            thread_rows.append((forum, author, created, title, body, html, text, replies))
        # Threads first (their ids are needed by the posts).
        thread_objects = []
        for forum, author, created, title, *_rest in thread_rows:
            thread_objects.append(Thread(
                forum=forum, title=title[:150], slug=_thread_slug(title), author=author,
                created_at=created, last_activity_at=created, last_poster=author,
            ))
        Thread.objects.bulk_create(thread_objects, batch_size=BATCH)
        # Posts get their ids here, so replies can point at parents in the same batch
        # (foreign keys are checked at commit on both databases). Rows go in with
        # executemany: building a million model instances would dominate the run.
        next_id = (Post.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        adapt = connection.ops.adapt_datetimefield_value
        columns = [
            "id", "thread_id", "author_id", "parent_id", "number", "tree_path", "depth", "subject",
            "body", "body_html", "body_text", "created_at", "recommendation_count", "edit_count",
            "is_deleted", "is_hidden",
        ]
        table = connection.ops.quote_name(Post._meta.db_table)
        insert = (
            f"INSERT INTO {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        thread_updates = []
        last_posts = {}

        def flush(rows):
            with connection.cursor() as cursor:
                cursor.executemany(insert, rows)
            rows.clear()

        for thread, (forum, author, created, title, body, html, text, replies) in zip(thread_objects, thread_rows):
            times = sorted(created + timedelta(seconds=rng.randint(60, 30 * 86400)) for _ in range(replies))
            times = [min(moment, now) for moment in times]
            # A node is (id, tree_path, depth).
            opening = (next_id, "", 0)
            pending_posts.append((
                next_id, thread.pk, author.pk, None, 0, "", 0, title[:150], body, html, text,
                adapt(created), 0, 0, False, False,
            ))
            next_id += 1
            post_counts[author.pk] = post_counts.get(author.pk, 0) + 1
            stats = forum_stats[forum.pk]
            stats[0] += 1
            stats[1] += 1 + replies
            nodes = [opening]
            last_id, last_author, last_at = opening[0], author.pk, created
            for number, moment in enumerate(times, start=1):
                parent = opening if rng.random() < 0.55 or len(nodes) == 1 else rng.choice(nodes[-50:])
                segment = str(number).zfill(Post.NUMBER_WIDTH)
                parent_id, parent_path, parent_depth = parent
                if parent_depth < Post.MAX_DEPTH:
                    path, depth = parent_path + segment, parent_depth + 1
                else:
                    path, depth = parent_path[: -Post.NUMBER_WIDTH] + segment, parent_depth
                body, html, text, subject = rng.choice(rendered)
                replier = rng.choice(people).pk
                pending_posts.append((
                    next_id, thread.pk, replier, parent_id, number, path, depth,
                    subject, body, html, text, adapt(moment), 0, 0, False, False,
                ))
                nodes.append((next_id, path, depth))
                last_id, last_author, last_at = next_id, replier, moment
                next_id += 1
                post_counts[replier] = post_counts.get(replier, 0) + 1
                if len(pending_posts) >= BATCH:
                    flush(pending_posts)
            thread.reply_count = len(times)
            thread.last_activity_at = last_at
            thread.last_poster_id = last_author
            thread_updates.append(thread)
            previous = last_posts.get(thread.forum_id)
            if previous is None or last_at > previous[1]:
                last_posts[thread.forum_id] = (last_id, last_at)
        flush(pending_posts)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Post]):
                cursor.execute(sql)
        Thread.objects.bulk_update(
            thread_updates, ["reply_count", "last_activity_at", "last_poster"], batch_size=BATCH
        )
        forums_to_update = []
        for forum in forum_list:
            threads_added, posts_added, _ = forum_stats[forum.pk]
            if not threads_added:
                continue
            forum.thread_count += threads_added
            forum.post_count += posts_added
            last_id, last_at = last_posts[forum.pk]
            if forum.last_post_at is None or last_at > forum.last_post_at:
                forum.last_post_id, forum.last_post_at = last_id, last_at
            forums_to_update.append(forum)
        Forum.objects.bulk_update(forums_to_update, ["thread_count", "post_count", "last_post", "last_post_at"])
        users = []
        for member_id, added in post_counts.items():
            users.append(User(pk=member_id, post_count=added))
        User.objects.bulk_update(users, ["post_count"], batch_size=BATCH)
