"""Every write in the forums app. Views, seeds, the admin and tests all come here."""

import html
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator, slugify

from .models import Community, Forum, Post, Section, Thread
from .permissions import check_post_permission, check_reply_permission
from .rendering import render_post

SUBJECT_WORDS = 8


def _thread_slug(title: str, max_length: int = 80) -> str:
    slug = slugify(title)
    if len(slug) > max_length:
        # Cut at a word boundary so URLs don't end in half a word.
        slug = slug[: max_length + 1].rsplit("-", 1)[0]
    return slug.strip("-") or "thread"


def _default_subject(*, thread: Thread, body_html: str) -> str:
    text = " ".join(html.unescape(strip_tags(body_html)).split())
    if not text:
        return f"Re: {thread.title}"[: Post._meta.get_field("subject").max_length]
    return Truncator(text).words(SUBJECT_WORDS, truncate="…")[:150]


def _count_post(*, forum_id: int, post: Post) -> None:
    """Add one post to its forum's and author's counters (inside the posting transaction)."""
    Forum.objects.filter(pk=forum_id).update(
        post_count=F("post_count") + 1, last_post=post, last_post_at=post.created_at
    )
    get_user_model().objects.filter(pk=post.author_id).update(post_count=F("post_count") + 1)


@transaction.atomic
def community_update(**texts: str) -> Community:
    """Set the site's name, tagline and welcome texts (seeds and staff)."""
    community = Community.objects.first() or Community()
    for field, value in texts.items():
        setattr(community, field, value)
    community.full_clean()
    community.save()
    return community


def section_create(*, name: str, slug: str, position: int, description: str = "") -> Section:
    """Create a section of forums. Staff and seeds only."""
    section = Section(name=name, slug=slug, position=position, description=description)
    section.full_clean()
    section.save()
    return section


def forum_create(
    *,
    name: str,
    slug: str,
    kind: str,
    section: Section | None,
    position: int,
    purpose: str = "",
    rules: str = "",
    is_featured: bool = False,
) -> Forum:
    """Create a forum. Staff and seeds only."""
    forum = Forum(
        name=name, slug=slug, kind=kind, section=section, position=position,
        purpose=purpose, rules=rules, is_featured=is_featured,
    )
    forum.full_clean()
    forum.save()
    return forum


@transaction.atomic
def thread_create(
    *, forum: Forum, author, title: str, body: str, created_at: datetime | None = None
) -> Thread:
    """Start a thread with its opening post, and count it on the forum and the author."""
    check_post_permission(author)
    now = created_at or timezone.now()
    thread = Thread(
        forum=forum, title=title, slug=_thread_slug(title), author=author,
        created_at=now, last_activity_at=now, last_poster=author,
    )
    thread.full_clean()
    thread.save()
    opening_post = Post.objects.create(
        thread=thread, author=author, parent=None, number=0, tree_path="", depth=0,
        subject=title, body=body, body_html=render_post(body), created_at=now,
    )
    Forum.objects.filter(pk=forum.pk).update(thread_count=F("thread_count") + 1)
    _count_post(forum_id=forum.pk, post=opening_post)
    return thread


@transaction.atomic
def reply_create(
    *, author, parent: Post, body: str, subject: str = "", created_at: datetime | None = None
) -> Post:
    """Answer a post in an open thread. The reply gets the next number in the thread.

    Locks the thread row, so concurrent replies get distinct numbers and exact counts.
    """
    thread = Thread.objects.select_for_update().get(pk=parent.thread_id)
    check_reply_permission(author, thread)
    now = created_at or timezone.now()
    number = thread.reply_count + 1
    segment = str(number).zfill(Post.NUMBER_WIDTH)
    if parent.depth < Post.MAX_DEPTH:
        tree_path, depth = parent.tree_path + segment, parent.depth + 1
    else:
        tree_path, depth = parent.tree_path[: -Post.NUMBER_WIDTH] + segment, parent.depth
    body_html = render_post(body)
    reply = Post.objects.create(
        thread=thread, author=author, parent=parent, number=number,
        tree_path=tree_path, depth=depth,
        subject=subject.strip() or _default_subject(thread=thread, body_html=body_html),
        body=body, body_html=body_html, created_at=now,
    )
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=F("reply_count") + 1, last_activity_at=now, last_poster=author
    )
    _count_post(forum_id=thread.forum_id, post=reply)
    return reply
