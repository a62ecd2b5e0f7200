from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.services import star_grant


class Command(BaseCommand):
    help = "Grant or extend Star membership: grant_star USERNAME --months N"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--months", type=int, required=True)

    def handle(self, username, months, **options):
        if months < 1:
            raise CommandError("--months must be at least 1.")
        try:
            member = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No member is called {username!r}.") from None
        member = star_grant(member=member, months=months)
        until = date_format(timezone.localtime(member.star_until), "DATETIME_FORMAT")
        self.stdout.write(f"{member.username} is a Star Member until {until}.")
