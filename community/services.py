"""Flows that cross the apps for one member: deleting their own account.

They sit above accounts, forums, conversations and moderation (the layering in
pyproject.toml), because leaving touches rows of every one of them.
"""

import secrets
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.services import PROFILE_FIELDS
from config import page_cache
from conversations import services as conversation_services
from conversations.models import Participant
from forums import services as forum_services
from forums.models import Picture


PASSWORD_WRONG = gettext_noop("That is not your current password.")
ALREADY_DELETED = gettext_noop("This account has already been deleted.")


def _end_sessions(member: User) -> None:
    """Drop the member's stored sessions. The database keeps no index by member, so
    this reads the live sessions once; whatever a cache-only session engine keeps is
    refused anyway, because the account can no longer log in (is_active is off and
    the password hash, which every session's auth hash is made from, has changed)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseSessionStore):
        return
    model = store.get_model_class()
    pk = str(member.pk)
    keys = [
        session.session_key
        for session in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == pk
    ]
    for key in keys:
        # Through the store, so that cached_db drops its cached copy as well.
        store(session_key=key).delete()


@transaction.atomic
def member_delete(*, member: User, password: str) -> User:
    """Delete the member's own account, confirmed by their current password.

    The row is kept but scrubbed, rather than deleted or merged into one shared
    "deleted member" account: posts, threads, messages and moderation records point at
    it (PROTECT), so keeping it leaves every thread, forum and member counter exactly
    as it was, and nothing has to be reassigned row by row. Their name, email, profile,
    avatar, pictures, password, email addresses, second factors, sessions, subscriptions,
    notifications, read markers, trash and ignores go. FORUMS_DELETED_MEMBER_POSTS
    decides whether their posts stay ("keep", shown as "deleted member") or are
    removed ("remove"). Suspended members may leave too: leaving is always allowed.
    """
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.deleted_at or not member.is_active:
        raise PermissionDenied(_(ALREADY_DELETED))
    if not password or not member.check_password(password):
        raise ValidationError({"password": _(PASSWORD_WRONG)}, code="password")

    # Their pictures go whatever happens to their posts: the alt text stays in place.
    conversation_services.messages_pictures_drop(pictures=Picture.objects.filter(owner=member))
    forum_services.member_pictures_delete(member=member)

    if settings.FORUMS_DELETED_MEMBER_POSTS == "remove":
        forum_services.member_posts_remove(member=member)
        member.refresh_from_db(fields=["post_count"])

    EmailAddress.objects.filter(user=member).delete()
    Authenticator.objects.filter(user=member).delete()
    forum_services.member_marks_delete(member=member)
    User.jury_blacklist.through.objects.filter(
        Q(from_user=member) | Q(to_user=member)
    ).delete()
    # The conversations stay with the other participants; only the counters go.
    Participant.objects.filter(member=member).update(unread_count=0)
    member.hosted_forums.clear()
    member.groups.clear()
    member.user_permissions.clear()
    _end_sessions(member)

    old_avatar = member.avatar.name if member.avatar else ""
    # Random, so the old name is free for a newcomer and the new one guesses nothing.
    member.username = f"deleted-{member.pk}-{secrets.token_hex(4)}"
    member.email = member.first_name = member.last_name = ""
    for name in PROFILE_FIELDS:
        setattr(member, name, "")
    member.avatar = None
    member.set_unusable_password()
    member.is_active = member.is_staff = member.is_superuser = False
    member.last_login = member.star_until = member.all_read_at = None
    member.jury_available = member.email_notifications = False
    member.unread_notification_count = member.unread_message_count = 0
    member.is_suspended, member.suspended_until, member.suspension_reason = False, None, ""
    member.deleted_at = timezone.now()
    member.save()

    if old_avatar:
        storage = member.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    # Their name goes from every page that shows it (config/page_cache.py: "Site-wide").
    page_cache.changed(page_cache.SITE)
    return member
