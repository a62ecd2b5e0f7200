"""Render every post (and kept revision) again, e.g. after the allowlist changed."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from config import page_cache
from forums.models import Post, PostRevision
from forums.rendering import render_post, searchable_text

BATCH = 500


class Command(BaseCommand):
    help = "Re-render the stored HTML of every post and revision from its Markdown source."

    def handle(self, *args, **options):
        changed = 0
        for model in (Post, PostRevision):
            last_pk = 0
            while True:
                # Keyset batches: constant memory and no OFFSET scans on big sites.
                fields = ["pk", "body", "body_html"] + (["body_text", "number"] if model is Post else [])
                rows = model.objects.filter(pk__gt=last_pk).order_by("pk").only(*fields)
                if model is Post:
                    # An opening post's searchable text ends with its poll's question.
                    rows = rows.annotate(poll_question=F("thread__poll__question"))
                batch = list(rows[:BATCH])
                if not batch:
                    break
                stale = []
                for row in batch:
                    html = render_post(row.body)
                    if html != row.body_html:
                        row.body_html = html
                        if model is Post:
                            question = row.poll_question if row.number == 0 else ""
                            row.body_text = searchable_text(html, poll_question=question or "")
                        stale.append(row)
                with transaction.atomic():
                    model.objects.bulk_update(
                        stale, ["body_html", "body_text"] if model is Post else ["body_html"]
                    )
                changed += len(stale)
                last_pk = batch[-1].pk
        if changed:
            page_cache.changed(page_cache.SITE)  # posts show on most pages
        self.stdout.write(f"Re-rendered {changed} posts and revisions whose HTML changed.")
