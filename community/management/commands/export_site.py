"""Write the whole community to one file that `import_site` loads into any database.

The file is JSON lines: a header (format, version, the migrations it was made at),
then one object per line in Django's serialization format, then a trailer with the
number of objects of each model, which proves to the importer that nothing was cut
off. Every model of SITE_APPS is included, so models added later need no change here.
Secrets stay behind: password hashes become unusable passwords, and sessions, MFA
authenticators and email confirmation keys live in apps that are not exported.
"""

import gzip
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Prefetch
from django.utils import timezone

FORMAT = "grassroots-site"
FORMAT_VERSION = 1

# Our own apps: every model in them is exported. Add new local apps here (a test
# fails until every app of the project is listed).
# community: what an import from another forum brought (old ids, for its old links).
SITE_APPS = ("accounts", "forums", "moderation", "conversations", "community")
# Models of other apps that belong to the community: staff groups, and members'
# email addresses with their verified state (so nobody has to confirm them again).
EXTRA_MODELS = ("auth.Group", "account.EmailAddress")
# Values that must never leave the server, replaced on export by model and field.
SCRUBBED_FIELDS = {
    settings.AUTH_USER_MODEL.lower(): {"password": lambda: make_password(None)},
}
BATCH_SIZE = 1000


def site_models() -> list[type[models.Model]]:
    """Every exported model, each after the models it points to (where cycles allow)."""
    found = [
        model
        for label in SITE_APPS
        for model in apps.get_app_config(label).get_models()
    ] + [apps.get_model(label) for label in EXTRA_MODELS]
    found = [m for m in found if m._meta.managed and not m._meta.proxy]
    return _dependency_order(found)


def _dependency_order(found: list[type[models.Model]]) -> list[type[models.Model]]:
    # Each model after every model it points to. Forum.last_post -> Post -> Thread ->
    # Forum is a cycle: it is broken at a nullable key (the database checks all keys
    # at commit anyway, since Django declares them DEFERRABLE INITIALLY DEFERRED on
    # PostgreSQL and SQLite).
    def targets(model, *, required_only: bool) -> set:
        keys = {
            field.related_model
            for field in model._meta.concrete_fields
            if field.is_relation and not (required_only and field.null)
        }
        many = {field.related_model for field in model._meta.many_to_many}
        return (keys | many) & set(found) - {model}

    every = {model: targets(model, required_only=False) for model in found}
    required = {model: targets(model, required_only=True) for model in found}
    ordered: list[type[models.Model]] = []
    while len(ordered) < len(found):
        done = set(ordered)
        remaining = [model for model in found if model not in done]
        ordered.append(
            next((m for m in remaining if every[m] <= done), None)
            or next((m for m in remaining if required[m] <= done), remaining[0])
        )
    return ordered


def applied_migrations(using: str, app_labels: set[str]) -> dict[str, list[str]]:
    """The migrations applied to a database, by app: export and import must agree."""
    recorder = MigrationRecorder(connections[using])
    applied: dict[str, list[str]] = {label: [] for label in sorted(app_labels)}
    for app_label, name in sorted(recorder.applied_migrations()):
        if app_label in applied:
            applied[app_label].append(name)
    return applied


class SiteSerializer(PythonSerializer):
    """Django's serializer, with natural keys only for rows that are not exported.

    Exported rows keep their primary keys, so references between them stay valid
    without a lookup per row on import. Rows that are not exported (permissions,
    content types) have other keys in another database: they go by natural key.
    """

    def __init__(self, exported: set[type[models.Model]]):
        super().__init__()
        self.exported = exported

    def _natural_for(self, field) -> bool:
        return field.related_model not in self.exported

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = self._natural_for(field)
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self.use_natural_foreign_keys = self._natural_for(field)
        super().handle_m2m_field(obj, field)


def _json_default(value):
    # Full precision: Django's JSON encoder would cut times to milliseconds, and a
    # backup must give back exactly what it was given.
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"Cannot export {type(value).__name__} values")


def dumps(data) -> str:
    return json.dumps(data, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def open_site_file(path: Path, mode: str, *, compressed: bool | None = None) -> IO[str]:
    """Open an export file as text, gzip-compressed when its name ends in .gz."""
    if compressed if compressed is not None else path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def _related_rows(model: type[models.Model], exported: set) -> models.QuerySet:
    queryset = model._base_manager.order_by("pk")
    if model in exported:
        return queryset
    # Written by natural key, which may follow keys of its own (a permission's
    # content type): fetch those in the same query.
    keys = [field.name for field in model._meta.concrete_fields if field.is_relation]
    return queryset.select_related(*keys) if keys else queryset


def _batches(model: type[models.Model], exported: set, using: str) -> Iterator[list]:
    # Keyset pages by primary key: memory stays flat and deep pages cost no more
    # than the first. Related rows that the serializer touches come with each page.
    outside_keys = [
        field.name
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model not in exported
    ]
    many = [
        Prefetch(field.name, queryset=_related_rows(field.related_model, exported))
        for field in model._meta.many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    queryset = model._base_manager.using(using).prefetch_related(*many).order_by("pk")
    if outside_keys:
        queryset = queryset.select_related(*outside_keys)
    last_pk = None
    while True:
        page = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        batch = list(page[:BATCH_SIZE])
        if not batch:
            return
        yield batch
        last_pk = batch[-1].pk


@contextmanager
def _snapshot(using: str):
    """One consistent view of the whole database for the length of the export.

    Members keep posting while a live site is exported; without a snapshot a reply
    could be written after its thread's page was read and before its author's.
    Inside a caller's transaction, that transaction is the snapshot.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        yield
        return
    # Connect (and run the connection health check) now, so that the first statement
    # of the transaction below is ours.
    with connection.cursor():
        pass
    if connection.vendor == "sqlite":
        # A deferred transaction reads from one WAL snapshot without taking the write
        # lock that our IMMEDIATE default would take, so members go on posting.
        mode, connection.transaction_mode = connection.transaction_mode, "DEFERRED"
        try:
            with transaction.atomic(using=using):
                yield
        finally:
            connection.transaction_mode = mode
    else:
        with transaction.atomic(using=using):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield


def export_site(stream: IO[str], *, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Write every exported row to `stream`; return the number of rows per model."""
    ordered = site_models()
    exported = set(ordered)
    serializer = SiteSerializer(exported)
    counts: dict[str, int] = {}
    with _snapshot(using):
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "exported_at": timezone.now(),
            "database": connections[using].vendor,
            "models": [model._meta.label_lower for model in ordered],
            "migrations": applied_migrations(using, {m._meta.app_label for m in ordered}),
        }
        stream.write(dumps(header) + "\n")
        for model in ordered:
            label = model._meta.label_lower
            scrub = SCRUBBED_FIELDS.get(label, {})
            counts[label] = 0
            for batch in _batches(model, exported, using):
                for data in serializer.serialize(batch):
                    for name, replacement in scrub.items():
                        data["fields"][name] = replacement()
                    stream.write(dumps(data) + "\n")
                counts[label] += len(batch)
        stream.write(dumps({"end": True, "counts": counts}) + "\n")
    return counts


class Command(BaseCommand):
    help = (
        "Export the whole community (members without passwords, forums, threads, posts "
        "with their history, moderation records) to FILE, for import_site. "
        "FILE ending in .gz is compressed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the export, e.g. site.jsonl.gz")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file: str, database: str, **options):
        path = Path(file)
        # Written under another name first: a half-written export must never be
        # mistaken for a backup.
        partial = path.with_name(path.name + ".partial")
        try:
            with open_site_file(partial, "w", compressed=path.suffix == ".gz") as stream:
                counts = export_site(stream, using=database)
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Could not write {path}: {error}") from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        total = sum(counts.values())
        self.stdout.write(f"Exported {total} objects of {len(counts)} models to {path}.")
