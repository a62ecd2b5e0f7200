"""The full-text index, kept by the database itself so that every write path (services,
bulk loads, the admin) stays searchable: an FTS5 table with triggers on SQLite, a
generated tsvector column with a GIN index on PostgreSQL. Both use no stemming
('simple' / unicode61) so the two databases find the same posts."""

import html

from django.db import migrations
from django.utils.html import strip_tags

SQLITE_UP = [
    """CREATE VIRTUAL TABLE forums_post_fts USING fts5(
        subject, body_text, content='forums_post', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER forums_post_fts_insert AFTER INSERT ON forums_post BEGIN
        INSERT INTO forums_post_fts(rowid, subject, body_text)
        VALUES (new.id, new.subject, new.body_text);
    END""",
    """CREATE TRIGGER forums_post_fts_delete AFTER DELETE ON forums_post BEGIN
        INSERT INTO forums_post_fts(forums_post_fts, rowid, subject, body_text)
        VALUES ('delete', old.id, old.subject, old.body_text);
    END""",
    """CREATE TRIGGER forums_post_fts_update AFTER UPDATE OF subject, body_text ON forums_post BEGIN
        INSERT INTO forums_post_fts(forums_post_fts, rowid, subject, body_text)
        VALUES ('delete', old.id, old.subject, old.body_text);
        INSERT INTO forums_post_fts(rowid, subject, body_text)
        VALUES (new.id, new.subject, new.body_text);
    END""",
    "INSERT INTO forums_post_fts(forums_post_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS forums_post_fts_insert",
    "DROP TRIGGER IF EXISTS forums_post_fts_delete",
    "DROP TRIGGER IF EXISTS forums_post_fts_update",
    "DROP TABLE IF EXISTS forums_post_fts",
]
POSTGRES_UP = [
    """ALTER TABLE forums_post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(subject, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(body_text, '')), 'B')
    ) STORED""",
    "CREATE INDEX forums_post_search ON forums_post USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS forums_post_search",
    "ALTER TABLE forums_post DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


def fill_body_text(apps, schema_editor):
    Post = apps.get_model("forums", "Post")
    batch = []
    for post in Post.objects.only("pk", "body_html").iterator(chunk_size=1000):
        post.body_text = " ".join(html.unescape(strip_tags(post.body_html)).split())
        batch.append(post)
        if len(batch) == 1000:
            Post.objects.bulk_update(batch, ["body_text"])
            batch = []
    Post.objects.bulk_update(batch, ["body_text"])


class Migration(migrations.Migration):
    dependencies = [("forums", "0005_post_body_text")]

    operations = [
        migrations.RunPython(fill_body_text, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
