from django import template

from forums import permissions

register = template.Library()


@register.filter
def thread_url(thread, user):
    """The thread's address in the reader's preferred view ("Original post only" or "View all")."""
    if getattr(user, "is_authenticated", False) and user.thread_view == "all":
        return thread.get_view_all_url()
    return thread.get_absolute_url()


@register.filter
def editable_by(post, user):
    return permissions.can_edit(user, post)


@register.filter
def deletable_by(post, user):
    return permissions.can_delete(user, post)


@register.filter
def repliable_by(thread, user):
    return permissions.can_reply(user, thread)
