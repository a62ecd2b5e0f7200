"""Who may do what. Each rule comes as `can_*` for templates and `check_*` that raises."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.standing import (
    can_post,
    check_active_member,
    check_not_restricted,
    check_post_permission,
    is_staff,
)

THREAD_LOCKED = gettext_noop("This thread is locked: it takes no new replies.")
FORUM_BLOCKED = gettext_noop("You are blocked from posting in {forum}.")
EDIT_WINDOW_OVER = gettext_noop(
    "Posts can be edited for {minutes} minutes after posting; this one no longer can."
)
NOT_YOUR_POST = gettext_noop("Only the author can change this post.")
POST_DELETED = gettext_noop("This post was deleted.")
POLLS_FOR_STAR_MEMBERS = gettext_noop("Only Star Members can start polls.")
HIDDEN_POST_EDIT = gettext_noop(
    "This post was hidden by moderation, so it can no longer be edited. If a jury hid "
    "it, you can appeal the verdict: follow “See why” on the post."
)


def is_blocked(user, forum) -> bool:
    return forum.blocks.filter(member=user).exists()


def check_forum_post_permission(user, forum) -> None:
    check_post_permission(user)
    if is_blocked(user, forum):
        raise PermissionDenied(_(FORUM_BLOCKED).format(forum=forum.name))


def can_reply(user, thread) -> bool:
    """For templates: the cheap part of the rule (blocks are checked when posting)."""
    return can_post(user) and not thread.is_locked


def check_reply_permission(user, thread) -> None:
    check_forum_post_permission(user, thread.forum)
    if thread.is_locked:
        raise PermissionDenied(_(THREAD_LOCKED))


def _edit_window() -> timedelta:
    return timedelta(minutes=settings.FORUMS_EDIT_WINDOW_MINUTES)


class PostRules:
    """Whether the reader may edit or delete each of the many posts of one page: the
    reader's standing is asked once, not for every post. Each rule is written once, as
    the refusal it gives (None when allowed); the page asks can_*, a write check_*."""

    def __init__(self, user):
        self.user_id = user.pk
        self.may_post = can_post(user)
        self.staff = is_staff(user)
        self.edits_from = timezone.now() - _edit_window()

    def edit_refusal(self, post) -> str | None:
        if post.is_deleted:
            return POST_DELETED
        if self.staff:
            return None
        if post.author_id != self.user_id:
            return NOT_YOUR_POST
        # Rewriting a hidden post would put new words behind the verdict; the appeal is
        # the way back.
        if post.is_hidden:
            return HIDDEN_POST_EDIT
        if post.created_at < self.edits_from:
            return EDIT_WINDOW_OVER
        return None

    def delete_refusal(self, post) -> str | None:
        if post.is_deleted:
            return POST_DELETED
        if post.author_id != self.user_id and not self.staff:
            return NOT_YOUR_POST
        return None

    def can_edit(self, post) -> bool:
        return self.may_post and self.edit_refusal(post) is None

    def can_delete(self, post) -> bool:
        return self.may_post and self.delete_refusal(post) is None


def check_edit_permission(user, post) -> None:
    check_post_permission(user)
    refusal = PostRules(user).edit_refusal(post)
    if refusal is not None:
        raise PermissionDenied(_(refusal).format(minutes=settings.FORUMS_EDIT_WINDOW_MINUTES))
    # A block stops rewriting old posts too, or a blocked member could still post by
    # editing. Asked last: it is the one rule that needs a query.
    if not is_staff(user) and is_blocked(user, post.thread.forum):
        raise PermissionDenied(_(FORUM_BLOCKED).format(forum=post.thread.forum.name))


def check_delete_permission(user, post) -> None:
    check_post_permission(user)
    refusal = PostRules(user).delete_refusal(post)
    if refusal is not None:
        raise PermissionDenied(_(refusal))


def can_read_text(user, post) -> bool:
    """Whether a post's words, and its earlier versions, may be shown to `user`: a
    deleted post's to no one, a hidden post's to staff only (as on the thread page)."""
    return not post.is_deleted and (not post.is_hidden or is_staff(user))


def can_see_picture(user, picture) -> bool:
    """A picture on a post: whoever may read the post's words, and the author of a hidden
    post. A pending one: its owner and staff. One placed in a private message: no one
    here; conversations.permissions.can_see_picture lets its participants see it.
    `picture` comes from Picture.objects.for_serving() (its post's state loaded)."""
    if picture.post_id:
        post = picture.post
        return can_read_text(user, post) or (
            not post.is_deleted and user.is_authenticated and post.author_id == user.pk
        )
    if picture.is_pending:
        return user.is_authenticated and (picture.owner_id == user.pk or is_staff(user))
    return False


def can_create_poll(user) -> bool:
    """For forms: whether the new-thread form offers a poll. FORUMS_POLLS_FOR says who
    may: "members" (anyone who may post) or "star" (Star Members, and staff)."""
    if not can_post(user):
        return False
    return settings.FORUMS_POLLS_FOR != "star" or user.is_star or is_staff(user)


def check_poll_create_permission(user) -> None:
    check_post_permission(user)
    if settings.FORUMS_POLLS_FOR == "star" and not (user.is_star or is_staff(user)):
        raise PermissionDenied(_(POLLS_FOR_STAR_MEMBERS))


def can_vote(user) -> bool:
    """For templates: the member's standing lets them vote (the poll's own state is
    forums.polls' business). Suspended and restricted members cannot."""
    return can_post(user)


def check_vote_permission(user) -> None:
    check_active_member(user)
    check_not_restricted(user, _("vote in polls"))
