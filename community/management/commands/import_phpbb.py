"""Bring a phpBB 3.x forum over: `manage.py import_phpbb sqlite:///phpbb.sqlite3`.

The source is read only. Running it again imports only what is new (for the final
sync before switching over) and resumes an interrupted run; see community/phpbb/ and
README "Moving from phpBB".
"""

import os
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from community.phpbb.importer import Importer
from community.phpbb.source import SourceError, open_source


class DryRun(Exception):
    """Raised at the end of a dry run so that its transaction rolls back."""


class Command(BaseCommand):
    help = "Import a phpBB 3.x forum (members, forums, topics, posts, messages) from its database."

    def add_arguments(self, parser):
        parser.add_argument("source", help="sqlite:///path/to/phpbb.db, postgres://user@host/db or mysql://user@host/db")
        parser.add_argument("--table-prefix", default="phpbb_", help="phpBB's table prefix (default: phpbb_)")
        parser.add_argument("--dry-run", action="store_true",
                            help="show what would be imported, write nothing (post text is read, not rendered)")
        parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4),
                            help="processes converting post text (default: the CPUs, at most 4)")

    def handle(self, *args, source, table_prefix, dry_run, workers, **options):
        self.verbosity = options["verbosity"]
        try:
            phpbb = open_source(source, prefix=table_prefix)
        except SourceError as error:
            raise CommandError(str(error)) from error
        try:
            self.stdout.write(f"Reading phpBB {phpbb.version} from {phpbb.name} (tables {table_prefix}*).")
            importer = Importer(phpbb, progress=self._progress, workers=max(1, workers), dry_run=dry_run)
            try:
                with transaction.atomic() if dry_run else nullcontext():
                    summary = importer.run()
                    if dry_run:
                        raise DryRun
            except DryRun:
                summary = importer.summary
        finally:
            phpbb.close()
        if dry_run:
            self.stdout.write("Dry run: nothing was written (post text was read, not rendered). "
                              "The import would do this:")
        for line in summary.lines():
            self.stdout.write(line)

    def _progress(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)
            self.stdout.flush()

