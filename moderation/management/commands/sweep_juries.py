from django.core.management.base import BaseCommand

from moderation.services import juries_sweep


class Command(BaseCommand):
    help = "Replace jurors whose deadline passed (run by a timer; juries also do it when looked at)."

    def handle(self, *args, **options):
        replaced = juries_sweep()
        self.stdout.write(f"Replaced {replaced} late jurors.")
