"""Every write to members' accounts outside allauth's own flows."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import User


@transaction.atomic
def member_create(
    *,
    username: str,
    email: str = "",
    display_name: str = "",
    password: str | None = None,
    joined_at: datetime | None = None,
) -> User:
    """Create a member. Without a password the account cannot log in until staff set one."""
    member = User(
        username=username,
        email=email,
        display_name=display_name,
        date_joined=joined_at or timezone.now(),
    )
    if password is None:
        member.set_unusable_password()
    else:
        member.set_password(password)
    member.full_clean(exclude=["password"])
    member.save()
    return member
