import functools

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.utils import translation

from config.including import render_kept
from forums import fragments

register = template.Library()


@register.simple_tag
def asset(path):
    """{% static %} for the site's own files that every page links (base.html): their
    hashed names are looked up once per process, not three times on every page."""
    return _asset_url(path)


@functools.lru_cache(maxsize=64)
def _asset_url(path) -> str:
    return static(path)


@receiver(setting_changed)
def _static_settings_changed(*, setting, **kwargs):
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES"}:
        _asset_url.cache_clear()


@register.simple_tag(takes_context=True)
def post_article(context, post, heading):
    """A post inside another page's outline (a reply form, a jury's page), without the
    reader's actions; `heading` is the level of its heading."""
    thread = context.get("thread") or post.thread
    return fragments.PostRenderer(
        user=context.get("user"), thread=thread, actions=False, heading=heading
    ).article(post)


@register.simple_tag(takes_context=True)
def forum_breadcrumbs(context, forum, current=False):
    """All Forums, the forum's section (if it has one) and the forum, linked unless the
    page is the forum's own (`current`). Kept per process by what it shows, as
    {% include_kept %} keeps a partial: it was a plain include on every thread page,
    about 5 % of a visitor's first render of one."""
    section = forum.section if forum.section_id else None
    values = {
        "forum_name": forum.name, "forum_slug": forum.slug, "current": bool(current),
        "section_name": section.name if section else None, "section_slug": section.slug if section else None,
    }
    return render_kept(context.template.engine.get_template("forums/_forum_breadcrumbs.html"), values, context)


@register.simple_tag
def counted(kind, count):
    """`count` in words, "3 replies" (forums.fragments.counted: kept per language)."""
    return fragments.counted(translation.get_language(), kind, count)


@register.simple_tag(takes_context=True)
def thread_rows(context, threads, show_forum=False):
    """The rows of a thread list (forums.fragments.thread_rows)."""
    return fragments.thread_rows(threads, user=context.get("user"), show_forum=bool(show_forum))


@register.simple_tag
def forum_rows(forums, compact=False, made=None):
    """The rows of a forum list (forums.fragments.forum_rows); `compact` leaves out the
    forums' purposes; `made`, the page's fragments.ForumRows when it lists its forums in
    several tables."""
    if made:
        return made(forums)
    return fragments.forum_rows(forums, purposes=not compact)


@register.simple_tag
def forum_table_head():
    """The head of a forum list's table (forums.fragments.forum_table_head)."""
    return fragments.forum_table_head()


@register.simple_tag
def recent_posts(posts, recommendations=False):
    """The items of a list of one member's posts (forums.fragments.recent_posts)."""
    return fragments.recent_posts(posts, recommendations=recommendations)
