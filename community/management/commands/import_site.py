"""Load a file written by `export_site` into an empty, migrated database.

Everything goes in one transaction: the import either completes or leaves the
database as it was. Afterwards the primary-key sequences are moved past the imported
rows (PostgreSQL), so the next thread or member gets a fresh id.
"""

import json
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from config import page_cache

from .export_site import FORMAT, FORMAT_VERSION, applied_migrations, open_site_file

NOT_AN_EXPORT = "{path} is not a Grassroots export (no export_site header on its first line)."
NEWER_FORMAT = (
    "{path} uses export format {version}; this release reads format {supported}. "
    "Upgrade Grassroots here first."
)
NOT_EMPTY = (
    "This database already has community data ({found}). import_site only loads into an "
    "empty database: create a new one, run `manage.py migrate`, then import."
)
MIGRATIONS_DIFFER = (
    "{path} was exported from a database at other migrations than this one "
    "({differences}). Run the release that made the export here (`manage.py migrate` "
    "with its code), import, then upgrade as usual."
)
TRUNCATED = "{path} ends before the export's last line: the file is incomplete."
COUNTS_DIFFER = "{path} promised {expected} but held {found}: the file is damaged."
BATCH_SIZE = 500


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {label}" for label, count in sorted(counts.items()) if count)


class Command(BaseCommand):
    help = "Import a file made by export_site into an empty database (run migrate first)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file made by export_site (.jsonl or .jsonl.gz)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: str, database: str, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            with open_site_file(path, "r") as stream:
                counts = self._import(stream, path, database)
        except (OSError, EOFError, UnicodeDecodeError) as error:
            raise CommandError(f"Could not read {path}: {error}") from error
        # A shared cache may still hold visitors' pages of the site this one replaces.
        page_cache.changed(page_cache.SITE)
        self.stdout.write(
            f"Imported {sum(counts.values())} objects of {len(counts)} models from {path}. "
            "Members have no passwords: they set new ones with \"Forgot your password?\"."
        )

    def _import(self, stream, path: Path, using: str) -> dict[str, int]:
        header = self._read_header(stream, path)
        models = self._check_target(header, path, using)
        loaded = dict.fromkeys(header["models"], 0)
        trailer = None
        try:
            with transaction.atomic(using=using):
                batch: list[dict] = []
                for line in stream:
                    data = json.loads(line)
                    if "end" in data:
                        trailer = data
                        break
                    batch.append(data)
                    if len(batch) >= BATCH_SIZE:
                        self._save(batch, loaded, using)
                        batch = []
                self._save(batch, loaded, using)
                if trailer is None:
                    raise CommandError(TRUNCATED.format(path=path))
                if trailer["counts"] != loaded:
                    raise CommandError(
                        COUNTS_DIFFER.format(
                            path=path,
                            expected=_describe(trailer["counts"]),
                            found=_describe(loaded),
                        )
                    )
                self._reset_sequences(models, using)
        except ValueError as error:
            # A line cut short by a full disk or an interrupted copy.
            raise CommandError(f"{path} is damaged: {error}") from error
        except (DatabaseError, DeserializationError) as error:
            raise CommandError(f"Nothing was imported: {error}") from error
        return loaded

    def _read_header(self, stream, path: Path) -> dict:
        try:
            header = json.loads(stream.readline())
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CommandError(NOT_AN_EXPORT.format(path=path))
        if header.get("version") != FORMAT_VERSION:
            raise CommandError(
                NEWER_FORMAT.format(
                    path=path, version=header.get("version"), supported=FORMAT_VERSION
                )
            )
        return header

    def _check_target(self, header: dict, path: Path, using: str) -> list:
        """Refuse anything but an empty database at the export's migrations; return its models."""
        here = applied_migrations(using, set(header["migrations"]))
        differences = [
            f"{app}: file at {(theirs or ['none'])[-1]}, database at {(here[app] or ['none'])[-1]}"
            for app, theirs in header["migrations"].items()
            if set(theirs) != set(here[app])
        ]
        if differences:
            raise CommandError(
                MIGRATIONS_DIFFER.format(path=path, differences="; ".join(differences))
            )
        models = [apps.get_model(label) for label in header["models"]]
        try:
            found = {
                model._meta.label_lower: model._base_manager.using(using).count()
                for model in models
            }
        except DatabaseError as error:
            raise CommandError(
                f"Could not read the database ({error}). Run `manage.py migrate` first."
            ) from error
        if any(found.values()):
            raise CommandError(NOT_EMPTY.format(found=_describe(found)))
        return models

    def _save(self, batch: list[dict], loaded: dict[str, int], using: str) -> None:
        # Saved raw, as loaddata saves fixtures: Model.save() overrides are skipped,
        # receivers are told the save is raw, and auto_now_add timestamps keep their
        # exported values.
        for obj in serializers.deserialize("python", batch, using=using):
            label = obj.object._meta.label_lower
            if label not in loaded:
                raise ValueError(f"{label} rows, which its header does not list")
            # The database is empty, so every row is new: skip the UPDATE Django would
            # try first for a row that comes with its primary key.
            obj.save(using=using, force_insert=True)
            loaded[label] += 1

    def _reset_sequences(self, models: list, using: str) -> None:
        # What `manage.py sqlsequencereset` prints, for these models and their
        # many-to-many tables: without it PostgreSQL would hand out id 1 again.
        tables = models + [
            field.remote_field.through
            for model in models
            for field in model._meta.many_to_many
            if field.remote_field.through._meta.auto_created
        ]
        connection = connections[using]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), tables):
                cursor.execute(sql)
