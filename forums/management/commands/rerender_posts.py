"""Render every post (and kept revision) again, e.g. after the allowlist changed."""

from django.core.management.base import BaseCommand
from django.db import transaction

from config import page_cache
from forums.models import Post, PostRevision
from forums.rendering import plain_text, render_post

BATCH = 500


class Command(BaseCommand):
    help = "Re-render the stored HTML of every post and revision from its Markdown source."

    def handle(self, *args, **options):
        changed = 0
        for model in (Post, PostRevision):
            last_pk = 0
            while True:
                # Keyset batches: constant memory and no OFFSET scans on big sites.
                fields = ["pk", "body", "body_html"] + (["body_text"] if model is Post else [])
                batch = list(model.objects.filter(pk__gt=last_pk).order_by("pk").only(*fields)[:BATCH])
                if not batch:
                    break
                stale = []
                for row in batch:
                    html = render_post(row.body)
                    if html != row.body_html:
                        row.body_html = html
                        if model is Post:
                            row.body_text = plain_text(html)
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
