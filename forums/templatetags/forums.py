from django import template

from forums import fragments

register = template.Library()


@register.filter
def thread_url(thread, user):
    """The thread's address in the reader's preferred view ("Original post only" or "View all")."""
    if getattr(user, "is_authenticated", False) and user.thread_view == "all":
        return thread.get_view_all_url()
    return thread.get_absolute_url()


@register.simple_tag(takes_context=True)
def post_article(context, post, heading):
    """A post inside another page's outline (a reply form, a jury's page), without the
    reader's actions; `heading` is the level of its heading."""
    thread = context.get("thread") or post.thread
    return fragments.PostRenderer(
        user=context.get("user"), thread=thread, actions=False, heading=heading
    ).article(post)
