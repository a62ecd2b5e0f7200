from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from forums import services
from forums.models import Picture


class Command(BaseCommand):
    help = "Delete pictures uploaded more than a day ago that no post or message placed (daily)."

    def handle(self, *args, **options):
        stale = Picture.objects.pending().filter(created_at__lt=timezone.now() - timedelta(days=1))
        removed = services.pictures_delete(pictures=stale)
        self.stdout.write(f"Removed {removed} unplaced pictures.")
