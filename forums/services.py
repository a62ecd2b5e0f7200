"""Every write in the forums app. Views, seeds, the admin and tests all come here."""

import operator
import re
import secrets
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.standing import check_active_member, check_pause, is_new_member, is_staff
from config import page_cache

from .models import (
    PICTURES_STORAGE,
    Community,
    Forum,
    ForumBlock,
    ForumRead,
    ForumSubscription,
    IgnoredMember,
    Notification,
    Picture,
    Poll,
    Post,
    PostRevision,
    Recommendation,
    Section,
    Thread,
    ThreadSubscription,
    ThreadVisit,
    TrashedForum,
    TrashedThread,
)
from .permissions import (
    POST_DELETED,
    check_delete_permission,
    check_edit_permission,
    check_forum_post_permission,
    check_reply_permission,
)
from .pictures import PICTURE_PATH, EncodedPicture, check_file_size, encode_picture
from .polls import PollSpec, poll_create
from .rendering import own_words, placed_pictures, plain_text, render_post, searchable_text, without_pictures
from .tasks import email_notifications

SUBJECT_WORDS = 8
TITLE_MAX = 150
BODY_MAX = 50_000

TITLE_REQUIRED = gettext_noop("Give your thread a title.")
TITLE_TOO_LONG = gettext_noop("Keep the title to 150 characters (it has {length}).")
SUBJECT_TOO_LONG = gettext_noop("Keep the subject to 150 characters (it has {length}).")
BODY_REQUIRED = gettext_noop("Write something before posting.")
BODY_TOO_LONG = gettext_noop("Keep posts to 50,000 characters (this one has {length}).")
SOURCE_LINK_REQUIRED = gettext_noop("{forum} needs a link to the source of the news (https://...).")
TOO_MANY_LINKS = gettext_noop("New members can include at most {limit} links in a post.")
TOO_SOON = gettext_noop(
    "New members can post once every {seconds} seconds. Please wait {wait}. {ends}"
)

MENTION = re.compile(r"(?<![\w@])@([\w.+-]{3,150})")


def _thread_slug(title: str, max_length: int = 80) -> str:
    slug = slugify(title)
    if len(slug) > max_length:
        # Cut at a word boundary so URLs don't end in half a word; a single word longer
        # than the column (a pasted link, base64) is cut where it must be.
        slug = slug[: max_length + 1].rsplit("-", 1)[0][:max_length]
    return slug.strip("-") or "thread"


REPLY_PREFIX = "Re: "


def _default_subject(*, thread: Thread, parent: Post, body_html: str) -> str:
    """The first words the replier wrote themselves, never the lines they quote (a
    quote's first line names whom it quotes); without any, "Re: <parent's subject>"."""
    text = own_words(body_html)
    if text:
        return Truncator(text).words(SUBJECT_WORDS, truncate="…")[:TITLE_MAX]
    # A deleted or hidden post's subject is not shown, so a reply must not repeat it;
    # the opening post's subject is the thread's title.
    readable = parent.subject and not (parent.is_deleted or parent.is_hidden)
    subject = parent.subject if readable else thread.title
    return (REPLY_PREFIX + subject.removeprefix(REPLY_PREFIX))[:TITLE_MAX]


def _link_count(body_html: str) -> int:
    return body_html.count("<a ")


def normalised_line(value: str, *, field: str, too_long: str, required: str | None = None) -> str:
    """A title or subject on one line with single spaces, within the length every title
    and subject shares; `required` (when given) and `too_long` are the messages."""
    value = " ".join(value.split())
    if required and not value:
        raise ValidationError({field: _(required)})
    if len(value) > TITLE_MAX:
        raise ValidationError({field: _(too_long).format(length=len(value))})
    return value


def validate_title(title: str) -> str:
    return normalised_line(title, field="title", required=TITLE_REQUIRED, too_long=TITLE_TOO_LONG)


def validate_subject(subject: str) -> str:
    return normalised_line(subject, field="subject", too_long=SUBJECT_TOO_LONG)


def normalised_body(body: str, *, required: str, too_long: str) -> str:
    """Markdown source with unix line ends and no outer blank space, within the size
    every post and message shares; `required` and `too_long` are the messages."""
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": _(required)})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": _(too_long).format(length=len(body))})
    return body


def validate_body(body: str) -> str:
    return normalised_body(body, required=BODY_REQUIRED, too_long=BODY_TOO_LONG)


def _check_new_member_limits(author, body_html: str, now: datetime) -> None:
    """Flood and link limits for new members. Call inside the posting transaction."""
    if not is_new_member(author):
        return
    limit = settings.FORUMS_NEW_MEMBER_MAX_LINKS
    if _link_count(body_html) > limit:
        raise ValidationError({"body": _(TOO_MANY_LINKS).format(limit=limit)})
    # The member's row is locked so that two posts sent at once cannot both pass.
    last = get_user_model().objects.select_for_update().filter(pk=author.pk).values_list(
        "last_posted_at", flat=True
    ).get()
    pause = timedelta(seconds=settings.FORUMS_NEW_MEMBER_SECONDS_BETWEEN_POSTS)
    check_pause(last, now=now, pause=pause, message=TOO_SOON)


def _count_and_notify_new_post(*, forum_id: int, post: Post, parent: Post | None = None) -> None:
    """Add one post to its forum's and author's counters and notify whoever it concerns
    (inside the posting transaction). Rows are locked in one order: the thread (by the
    caller), the forum, then the members by id (_lock_members)."""
    Forum.objects.filter(pk=forum_id).update(
        post_count=F("post_count") + 1, last_post=post, last_post_at=post.created_at
    )
    recipients = _new_post_recipients(post, parent=parent)
    _lock_members([post.author_id, *recipients])
    get_user_model().objects.filter(pk=post.author_id).update(
        post_count=F("post_count") + 1, last_posted_at=post.created_at
    )
    notifications_create(
        recipients=recipients, post=post, actor_id=post.author_id, created_at=post.created_at,
        email=True,
    )


def _lock_members(member_ids) -> None:
    """Lock the rows of members whose counters this transaction changes, by id, before
    changing any. A reply adds one to its author's post count, then to the unread count
    of each member it notifies: two replies whose authors each follow the other's thread
    locked their own author first, then waited for each other, until PostgreSQL ended
    one with "deadlock detected" (a 500 for its author, seen in the soak). Locked in one
    order, the second reply waits for the first."""
    list(
        get_user_model().objects.select_for_update(no_key=True).filter(pk__in=set(member_ids)).order_by("pk")
        .values_list("pk", flat=True)
    )


def _forum_scopes(forum_ids) -> list[str]:
    slugs = Forum.objects.filter(pk__in=forum_ids).values_list("slug", flat=True)
    return [page_cache.forum(slug) for slug in slugs]


def _thread_in_lists_changed(thread_id: int) -> None:
    """A change thread rows show (title, lock, recommendations): the thread's forum and
    the lists across forums."""
    slug = Forum.objects.filter(threads=thread_id).values_list("slug", flat=True).get()
    page_cache.changed(page_cache.forum(slug), page_cache.LISTS)


def _new_post_changed(*, thread: Thread, forum: Forum, author_id: int) -> None:
    """Visitors' pages a new post changes: its thread, its forum's lists, the lists
    across forums and search, and everywhere its author shows (their post count)."""
    page_cache.changed(
        page_cache.thread(thread.pk), page_cache.forum(forum.slug), page_cache.LISTS,
        page_cache.POSTS, page_cache.member(author_id),
    )


@transaction.atomic
def community_update(**texts: str) -> Community:
    """Set the site's name, tagline and welcome texts (seeds and staff)."""
    community = Community.objects.first() or Community()
    for field, value in texts.items():
        setattr(community, field, value)
    community.full_clean()
    community.save()
    # The site's name and tagline head every page.
    page_cache.changed(page_cache.SITE)
    return community


def section_create(*, name: str, slug: str, position: int, description: str = "") -> Section:
    """Create a section of forums. Staff and seeds only."""
    section = Section(name=name, slug=slug, position=position, description=description)
    section.full_clean()
    section.save()
    page_cache.changed(page_cache.SITE)  # the navigation on every page
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
    requires_source_link: bool = False,
    is_featured: bool = False,
) -> Forum:
    """Create a forum. Staff and seeds only."""
    forum = Forum(
        name=name, slug=slug, kind=kind, section=section, position=position,
        purpose=purpose, rules=rules, requires_source_link=requires_source_link,
        is_featured=is_featured,
    )
    forum.full_clean()
    forum.save()
    page_cache.changed(page_cache.SITE)  # the navigation on every page
    return forum


def _forum_last_post_refresh(forum_id: int) -> None:
    """Point the forum at its newest post (or at none). Inside the caller's transaction."""
    last = Post.objects.filter(thread__forum=forum_id).order_by("-created_at", "-id").first()
    Forum.objects.filter(pk=forum_id).update(
        last_post=last, last_post_at=last.created_at if last else None
    )


@transaction.atomic
def thread_forum_change(*, thread: Thread, forum: Forum) -> Thread:
    """Put a thread in another forum: its thread and posts leave one forum's counters
    and join the other's, and both forums' last post follow.

    The write half of a move. The caller has already checked who may move the thread
    and records the move: moderation.services.thread_move (hosts and staff). Locks the
    thread row, so no reply lands between counting its posts and moving it.
    """
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    if thread.forum_id == forum.pk:
        return thread
    from_forum_id = thread.forum_id
    # reply_count is exact (replies are never removed), so with the opening post this
    # is the thread's number of Post rows.
    posts = thread.reply_count + 1
    Forum.objects.filter(pk=from_forum_id).update(
        thread_count=F("thread_count") - 1, post_count=F("post_count") - posts
    )
    Forum.objects.filter(pk=forum.pk).update(
        thread_count=F("thread_count") + 1, post_count=F("post_count") + posts
    )
    Thread.objects.filter(pk=thread.pk).update(forum=forum)
    for forum_id in (from_forum_id, forum.pk):
        _forum_last_post_refresh(forum_id)
    # Profiles name the forum of each recent post, so everyone who posted here.
    authors = Post.objects.filter(thread=thread).values_list("author__username", flat=True).distinct()
    page_cache.changed(
        page_cache.thread(thread.pk), *_forum_scopes([from_forum_id, forum.pk]), page_cache.LISTS,
        page_cache.POSTS, *(page_cache.profile(username) for username in authors),
    )
    thread.refresh_from_db()
    return thread


@transaction.atomic
def forum_counters_refresh(*, forum_ids) -> None:
    """Recount the forums' thread_count and post_count from their rows and point each at
    its newest post, for writes that remove threads wholesale.

    Called by community.services.member_delete ("remove" mode) in its transaction, after
    the threads are gone; threads that stay keep their own counters, since their posts
    stay as placeholders. The forum rows are locked first, in id order, so a post that
    commits meanwhile is either counted here or added by its own F() update afterwards.
    """
    forum_ids = sorted(set(forum_ids))
    if not forum_ids:
        return
    list(Forum.objects.select_for_update().filter(pk__in=forum_ids).order_by("pk").values_list("pk"))
    for forum_id in forum_ids:
        Forum.objects.filter(pk=forum_id).update(
            thread_count=Thread.objects.filter(forum=forum_id).count(),
            post_count=Post.objects.filter(thread__forum=forum_id).count(),
        )
        _forum_last_post_refresh(forum_id)
    page_cache.changed(*_forum_scopes(forum_ids), page_cache.LISTS)


@transaction.atomic
def thread_create(
    *, forum: Forum, author, title: str, body: str, poll: PollSpec | None = None,
    created_at: datetime | None = None,
) -> Thread:
    """Start a thread with its opening post, and its poll if given (forums.polls);
    count it; the author follows it."""
    check_forum_post_permission(author, forum)
    title, body = validate_title(title), validate_body(body)
    body_html = render_post(body)
    if forum.requires_source_link and not _link_count(body_html):
        raise ValidationError({"body": _(SOURCE_LINK_REQUIRED).format(forum=forum.name)})
    check_placed_pictures(body_html)
    now = created_at or timezone.now()
    _check_new_member_limits(author, body_html, now)
    thread = Thread.objects.create(
        forum=forum, title=title, slug=_thread_slug(title), author=author,
        created_at=now, last_activity_at=now, last_poster=author,
    )
    question = poll_create(author=author, thread=thread, spec=poll).question if poll else ""
    opening_post = Post.objects.create(
        thread=thread, author=author, parent=None, number=0, tree_path="", depth=0,
        subject=title, body=body, body_html=body_html,
        body_text=searchable_text(body_html, poll_question=question),
        created_at=now,
    )
    Forum.objects.filter(pk=forum.pk).update(thread_count=F("thread_count") + 1)
    pictures_place(owner=author, body_html=body_html, post=opening_post)
    _count_and_notify_new_post(forum_id=forum.pk, post=opening_post)
    ThreadSubscription.objects.create(member=author, thread=thread)
    _new_post_changed(thread=thread, forum=forum, author_id=author.pk)
    return thread


@transaction.atomic
def reply_create(
    *, author, parent: Post, body: str, subject: str = "", created_at: datetime | None = None
) -> Post:
    """Answer a post in an open thread. The reply gets the next number in the thread.

    Locks the thread row, so concurrent replies get distinct numbers and exact counts.
    """
    thread = Thread.objects.select_for_update().select_related("forum").get(pk=parent.thread_id)
    check_reply_permission(author, thread)
    subject, body = validate_subject(subject), validate_body(body)
    body_html = render_post(body)
    check_placed_pictures(body_html)
    now = created_at or timezone.now()
    _check_new_member_limits(author, body_html, now)
    number = thread.reply_count + 1
    segment = str(number).zfill(Post.NUMBER_WIDTH)
    if parent.depth < Post.MAX_DEPTH:
        tree_path, depth = parent.tree_path + segment, parent.depth + 1
    else:
        tree_path, depth = parent.tree_path[: -Post.NUMBER_WIDTH] + segment, parent.depth
    reply = Post.objects.create(
        thread=thread, author=author, parent=parent, number=number,
        tree_path=tree_path, depth=depth,
        subject=subject or _default_subject(thread=thread, parent=parent, body_html=body_html),
        body=body, body_html=body_html, body_text=plain_text(body_html), created_at=now,
    )
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=F("reply_count") + 1, last_activity_at=now, last_poster=author
    )
    pictures_place(owner=author, body_html=body_html, post=reply)
    _count_and_notify_new_post(forum_id=thread.forum_id, post=reply, parent=parent)
    _new_post_changed(thread=thread, forum=thread.forum, author_id=author.pk)
    return reply


@transaction.atomic
def post_edit(*, editor, post: Post, body: str, subject: str | None = None) -> Post:
    """Change a post's text, keeping the earlier version. The author may edit within the
    edit window, staff at any time. Editing the opening post's subject retitles the thread."""
    post = Post.objects.select_for_update().select_related("thread").get(pk=post.pk)
    check_edit_permission(editor, post)
    body = validate_body(body)
    if post.is_opening_post:
        subject = validate_title(subject if subject is not None else post.subject)
    else:
        subject = validate_subject(subject if subject is not None else post.subject) or post.subject
    if body == post.body and subject == post.subject:
        return post
    PostRevision.objects.create(
        post=post, subject=post.subject, body=post.body, body_html=post.body_html,
        written_at=post.edited_at or post.created_at,
    )
    post.subject, post.body, post.body_html = subject, body, render_post(body)
    check_placed_pictures(post.body_html)
    pictures_place(owner=editor, body_html=post.body_html, post=post)
    post.body_text = searchable_text(post.body_html, poll_question=_poll_question(post))
    post.edited_at = timezone.now()
    post.edit_count = F("edit_count") + 1
    post.save(update_fields=["subject", "body", "body_html", "body_text", "edited_at", "edit_count"])
    if post.is_opening_post and post.thread.title != subject:
        Thread.objects.filter(pk=post.thread_id).update(title=subject, slug=_thread_slug(subject))
    # The subject shows on the author's profile; an opening post's is the thread's title.
    page_cache.changed(
        page_cache.thread(post.thread_id), page_cache.POSTS, page_cache.profile(post.author.username)
    )
    if post.is_opening_post:
        _thread_in_lists_changed(post.thread_id)
    post.refresh_from_db()
    return post


def _poll_question(post: Post) -> str:
    """The question of the poll an opening post carries, or ""."""
    if not (post.is_opening_post and post.thread.has_poll):
        return ""
    return Poll.objects.filter(pk=post.thread_id).values_list("question", flat=True).first() or ""


@transaction.atomic
def post_delete(*, member, post: Post) -> Post:
    """Delete a post (soft): its place in the tree stays, its text is hidden. Deleting
    the opening post locks the thread. The author or staff only."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    check_delete_permission(member, post)
    post.is_deleted = True
    post.save(update_fields=["is_deleted"])
    pictures_delete(pictures=Picture.objects.filter(post=post))
    page_cache.changed(page_cache.thread(post.thread_id), page_cache.POSTS)
    if post.is_opening_post:
        Thread.objects.filter(pk=post.thread_id).update(is_locked=True)
        _thread_in_lists_changed(post.thread_id)
    return post


def _new_post_recipients(post: Post, parent: Post | None = None) -> dict[int, str]:
    """Whom a new post concerns, once each, with the kind of their notification: the
    author of the post it answers, followers of the thread (or of the forum, for a new
    thread), and members it @mentions; never its own author."""
    recipients: dict[int, str] = {}
    mentioned = {name.lower() for name in MENTION.findall(post.body)}
    if mentioned:
        names = reduce(operator.or_, (Q(username__iexact=name) for name in mentioned))
        mentioned_ids = get_user_model().objects.filter(names).values_list("pk", flat=True)[
            : settings.FORUMS_MAX_MENTIONS
        ]
        recipients.update(dict.fromkeys(mentioned_ids, Notification.Kind.MENTION))
    if parent is None:
        followers = ForumSubscription.objects.filter(forum_id=post.thread.forum_id)
        recipients.update(
            dict.fromkeys(followers.values_list("member_id", flat=True), Notification.Kind.FORUM)
        )
    else:
        followers = ThreadSubscription.objects.filter(thread_id=post.thread_id)
        for member_id in followers.values_list("member_id", flat=True):
            recipients.setdefault(member_id, Notification.Kind.THREAD)
        recipients[parent.author_id] = Notification.Kind.REPLY
    recipients.pop(post.author_id, None)
    return recipients


def notifications_create(
    *,
    recipients: dict[int, str],
    post: Post,
    actor_id: int | None = None,
    jury=None,
    created_at: datetime | None = None,
    email: bool = False,
) -> list[Notification]:
    """Create the notifications about `post`, one per recipient (member id -> kind), and
    add one to each recipient's unread count. With `email`, members who asked for it are
    emailed once the transaction commits.

    The one place Notification rows are made: forums (new posts and recommendations,
    with the member who acted as actor, and emails) and moderation.services (juries and verdicts, with the jury, no
    actor, no email) call it inside their own transactions. The caller has decided who
    is told; nothing is checked here. `jury` is a moderation.models.Jury or None. Call
    inside the caller's transaction (no savepoint of its own: it runs on every reply).
    """
    if not recipients:
        return []
    created_at = created_at or timezone.now()
    notifications = Notification.objects.bulk_create(
        Notification(recipient_id=member_id, kind=kind, post=post, actor_id=actor_id, jury=jury,
                     created_at=created_at)
        for member_id, kind in recipients.items()
    )
    get_user_model().objects.filter(pk__in=recipients).update(
        unread_notification_count=F("unread_notification_count") + 1
    )
    if email:
        post_id, member_ids = post.pk, list(recipients)
        notification_ids = [notification.pk for notification in notifications]
        transaction.on_commit(
            lambda: email_notifications.enqueue(post_id, member_ids, notification_ids)
        )
    return notifications


@transaction.atomic
def notifications_mark_read(*, member) -> int:
    """Mark all of a member's notifications read and reset the header count."""
    count = Notification.objects.filter(recipient=member).unread().update(read_at=timezone.now())
    get_user_model().objects.filter(pk=member.pk).update(unread_notification_count=0)
    return count


RECOMMEND_OWN = gettext_noop("You cannot recommend your own post.")


@transaction.atomic
def recommendation_set(*, member, post: Post, recommend: bool) -> Post:
    """Recommend a post once, or take the recommendation back. Members, not on their
    own posts. Counters on the post (and the thread, for opening posts) stay exact; the
    author hears of each recommender once."""
    check_active_member(member)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.author_id == member.pk:
        raise ValidationError(_(RECOMMEND_OWN))
    if post.is_deleted:
        raise ValidationError(_(POST_DELETED))
    if recommend:
        _recommendation, created = Recommendation.objects.get_or_create(
            member=member, post=post,
            defaults={"thread_id": post.thread_id, "created_at": timezone.now()},
        )
        change = 1 if created else 0
        if created:
            _notify_recommendation(post, recommender=member)
    else:
        deleted = Recommendation.objects.filter(member=member, post=post).delete()[0]
        change = -deleted
    if change:
        Post.objects.filter(pk=post.pk).update(recommendation_count=F("recommendation_count") + change)
        page_cache.changed(page_cache.thread(post.thread_id))
        if post.is_opening_post:
            Thread.objects.filter(pk=post.thread_id).update(
                recommendation_count=F("recommendation_count") + change
            )
            # Thread rows count the opening post's recommendations; Greatest ranks by them.
            _thread_in_lists_changed(post.thread_id)
    post.refresh_from_db()
    return post


def _notify_recommendation(post: Post, *, recommender) -> None:
    """Tell a post's author that `recommender` recommended it, unless they turned that
    off (or left). Once per recommender and post: taking a recommendation back and
    giving it again is no news. Inside recommendation_set's transaction."""
    told = Notification.objects.filter(
        recipient=OuterRef("pk"), post=post, actor=recommender, kind=Notification.Kind.RECOMMEND
    )
    wants_it = get_user_model().objects.filter(
        pk=post.author_id, is_active=True, notify_recommendations=True
    ).exclude(Exists(told))
    if wants_it.exists():
        notifications_create(
            recipients={post.author_id: Notification.Kind.RECOMMEND}, post=post,
            actor_id=recommender.pk, email=True,
        )


@transaction.atomic
def forum_mark_read(*, member, forum: Forum) -> None:
    """Everything in the forum posted until now counts as read for the member. Visits
    of its threads before now say nothing more, so they are compacted away."""
    now = timezone.now()
    ForumRead.objects.update_or_create(member=member, forum=forum, defaults={"marked_at": now})
    ThreadVisit.objects.filter(member=member, thread__forum=forum, visited_at__lte=now).delete()


@transaction.atomic
def all_forums_mark_read(*, member) -> None:
    """Everything posted until now counts as read, in every forum."""
    get_user_model().objects.filter(pk=member.pk).update(all_read_at=timezone.now())
    ForumRead.objects.filter(member=member).delete()
    ThreadVisit.objects.filter(member=member).delete()


def thread_visit_record(*, member, thread: Thread, seen_reply_count: int | None = None) -> None:
    """Remember that the member has now seen the thread with its current replies.

    `seen_reply_count` is what their last visit saw, when the caller knows it. Replies
    are only ever added (a deleted one keeps its place), so a visit that finds no more
    than that has nothing to record: every reply was already older than the last
    visit, and no mark would change. Members mostly read, and on SQLite every write
    waits for the database's one writer, so such a visit writes nothing."""
    if seen_reply_count is not None and seen_reply_count >= thread.reply_count:
        return
    ThreadVisit.objects.bulk_create(
        [ThreadVisit(member=member, thread=thread, visited_at=timezone.now(),
                     seen_reply_count=thread.reply_count)],
        update_conflicts=True,
        unique_fields=["member", "thread"],
        update_fields=["visited_at", "seen_reply_count"],
    )


@transaction.atomic
def thread_views_add(counts: dict[int, int]) -> None:
    """Add a batch of counted views (thread id -> readers) to the threads' totals. No
    page's cache is dropped for it: a cached thread list shows the count it was
    rendered with until something else changes it."""
    for thread_id, count in sorted(counts.items()):  # one lock order for every process
        Thread.objects.filter(pk=thread_id).update(view_count=F("view_count") + count)


def _mark_set(model, *, member, on: bool, **target) -> bool:
    """Put or take away one of the member's own marks (follow, trash, ignore): a row of
    `model` for the member and `target`, which exists while the mark is on. Returns `on`."""
    if on:
        model.objects.get_or_create(member=member, **target)
    else:
        model.objects.filter(member=member, **target).delete()
    return on


def _forum_mark_set(model, *, member, forum: Forum, on: bool) -> bool:
    """_mark_set on a forum. Its "About this forum" page counts followers and trashers,
    so the forum's cached pages are dropped too."""
    _mark_set(model, member=member, on=on, forum=forum)
    page_cache.changed(page_cache.forum(forum.slug))
    return on


@transaction.atomic
def thread_subscription_set(*, member, thread: Thread, follow: bool) -> bool:
    """Follow or stop following a thread. Any member."""
    return _mark_set(ThreadSubscription, member=member, on=follow, thread=thread)


@transaction.atomic
def forum_subscription_set(*, member, forum: Forum, follow: bool) -> bool:
    """Follow or stop following a forum's new threads. Any member."""
    return _forum_mark_set(ForumSubscription, member=member, forum=forum, on=follow)


@transaction.atomic
def thread_trash_set(*, member, thread: Thread, trash: bool) -> bool:
    """Hide a thread from the member's lists, Latest and Greatest (or bring it back)."""
    return _mark_set(TrashedThread, member=member, on=trash, thread=thread)


@transaction.atomic
def forum_trash_set(*, member, forum: Forum, trash: bool) -> bool:
    """Hide a forum and its threads from the member's lists (or bring them back)."""
    return _forum_mark_set(TrashedForum, member=member, forum=forum, on=trash)


@transaction.atomic
def member_posts_remove(*, member) -> None:
    """For community.services.member_delete when FORUMS_DELETED_MEMBER_POSTS is
    "remove": threads the member started that nobody else answered go entirely; every
    other post of theirs becomes a blank placeholder, so replies to it keep their place
    in the tree. Counters stay equal to the rows."""
    others_posted = Post.objects.filter(thread=OuterRef("pk")).exclude(author=member)
    solo = Thread.objects.filter(author=member).exclude(Exists(others_posted))
    solo_rows = list(solo.values_list("pk", "forum_id"))
    if solo_rows:
        solo_ids = [pk for pk, _forum_id in solo_rows]
        # Post.parent protects a post that has replies; these threads go whole, so
        # cut the links first rather than ordering the delete by depth.
        Post.objects.filter(thread__in=solo_ids).update(parent=None)
        Thread.objects.filter(pk__in=solo_ids).delete()
        forum_counters_refresh(forum_ids={forum_id for _pk, forum_id in solo_rows})
    mine = Post.objects.filter(author=member)
    PostRevision.objects.filter(post__in=mine).delete()
    mine.update(
        is_deleted=True, body="", body_html="", body_text="", edited_at=None, edit_count=0
    )
    # An opening post's subject is its thread's title, which the thread keeps.
    mine.filter(parent__isnull=False).update(subject="")
    # As when a member deletes an opening post themselves (forums.services.post_delete).
    Thread.objects.filter(author=member).update(is_locked=True)
    type(member).objects.filter(pk=member.pk).update(post_count=mine.count())


@transaction.atomic
def member_marks_delete(*, member) -> None:
    """For community.services.member_delete: the member's own marks on the forums go
    (follows, read markers, visits, trash, blocks, notifications) and their ignores both
    ways; their posts are the caller's to keep or remove."""
    for model in (ThreadSubscription, ForumSubscription, ForumRead, ThreadVisit,
                  TrashedThread, TrashedForum, ForumBlock):
        model.objects.filter(member=member).delete()
    Notification.objects.filter(recipient=member).delete()
    IgnoredMember.objects.filter(Q(member=member) | Q(ignored=member)).delete()


IGNORE_SELF = gettext_noop("You cannot ignore yourself.")


@transaction.atomic
def member_ignore_set(*, member, other, ignore: bool) -> bool:
    """Collapse another member's posts for this member (or stop)."""
    if ignore and other.pk == member.pk:
        raise ValidationError(_(IGNORE_SELF))
    return _mark_set(IgnoredMember, member=member, on=ignore, ignored=other)


# Pictures (forums.pictures checks and re-encodes them; these store and place them).

PICTURES_TOO_MANY = gettext_noop(
    "A post or message can hold at most {limit} pictures (this one has {count})."
)
PICTURES_SENT_TOO_MANY = gettext_noop("Choose at most {limit} pictures at a time (you chose {count}).")
PICTURE_ALT_MISSING = gettext_noop(
    "Describe every picture for readers who cannot see it: write what it shows between "
    "the brackets, ![like this](…)."
)
PICTURE_NOT_PLACED = gettext_noop(
    "Place {name} in your text with {markdown}, or leave the file out."
)
PICTURE_ALLOWANCE = gettext_noop(
    "You can upload {limit_mb} MB of pictures in 24 hours and have {left_mb} MB left, so "
    "these pictures ({size_mb} MB) were not stored. Try again later."
)
PICTURE_ALLOWANCE_STAR = gettext_noop("Star Members can upload {limit_mb} MB.")
PICTURE_NOT_YOURS = gettext_noop("Only staff can remove a picture once it is in a post or message.")

# `![alt](address)`, the address bare or in angle brackets (for names with spaces or
# parentheses, which are common: "photo (1).jpg").
_PICTURE_REFERENCE = re.compile(r"(!\[[^\]\n]*\]\()[ \t]*(?:<([^<>\n]+)>|([^()<>\s]+))[ \t]*\)")
FILE_NAME_MAX = 255


def mentions_pictures_by_name(body: str) -> bool:
    """Whether the text places a picture by a file name rather than by its address."""
    return any(
        not (match.group(2) or match.group(3)).startswith(("/", "http:", "https:"))
        for match in _PICTURE_REFERENCE.finditer(body)
    )


def picture_markdown(name: str, alt: str = "what it shows") -> str:
    """How a member places a picture by its file name or address."""
    return f"![{alt}](<{name}>)" if re.search(r"[\s()<>]", name) else f"![{alt}]({name})"


def check_placed_pictures(body_html: str) -> list[int]:
    """The pictures a post or message shows: each with alt text, at most
    FORUMS_PICTURES_PER_POST of them. Raises ValidationError on the body."""
    ids, without_alt = placed_pictures(body_html)
    if without_alt:
        raise ValidationError({"body": _(PICTURE_ALT_MISSING)})
    limit = settings.FORUMS_PICTURES_PER_POST
    if len(ids) > limit:
        raise ValidationError({"body": _(PICTURES_TOO_MANY).format(limit=limit, count=len(ids))})
    return ids


def _daily_allowance(owner) -> int:
    return (
        settings.FORUMS_PICTURE_BYTES_PER_DAY_STAR if owner.is_star
        else settings.FORUMS_PICTURE_BYTES_PER_DAY
    )


def _allowance_refusal(owner, *, used: int, size: int) -> ValidationError:
    megabyte = 1024 * 1024
    limit = _daily_allowance(owner)
    message = _(PICTURE_ALLOWANCE).format(
        limit_mb=limit // megabyte, left_mb=f"{max(0, limit - used) / megabyte:.1f}",
        size_mb=f"{size / megabyte:.1f}",
    )
    if not owner.is_star:
        message += " " + _(PICTURE_ALLOWANCE_STAR).format(
            limit_mb=settings.FORUMS_PICTURE_BYTES_PER_DAY_STAR // megabyte
        )
    return ValidationError({"pictures": message})


@transaction.atomic
def _pictures_store(*, owner, encoded: list[tuple[str, int, EncodedPicture]]) -> list[Picture]:
    """Store re-encoded pictures as the owner's pending pictures, all of them within their
    daily allowance or none. The owner's row is locked, so uploads sent at once are
    counted together; files stored before a failure (of the store) are removed again."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk").get()
    now = timezone.now()
    used = sum(
        Picture.objects.uploaded_since(owner, now - timedelta(days=1)).values_list("uploaded_bytes", flat=True)
    )
    size = sum(size for _name, size, _picture in encoded)
    if used + size > _daily_allowance(owner):
        raise _allowance_refusal(owner, used=used, size=size)
    storage = PICTURES_STORAGE
    stored_names, pictures = [], []
    try:
        for name, size, picture in encoded:
            # Random, so no name is guessed from another or from what the member sent.
            stem = f"{now:%Y/%m}/{secrets.token_urlsafe(18)}"
            display = storage.save(f"{stem}.{picture.extension}", ContentFile(picture.display))
            stored_names.append(display)
            thumbnail = storage.save(f"{stem}-thumb.{picture.extension}", ContentFile(picture.thumbnail))
            stored_names.append(thumbnail)
            pictures.append(Picture.objects.create(
                owner=owner, name=name, format=picture.format, display=display, thumbnail=thumbnail,
                width=picture.width, height=picture.height, uploaded_bytes=size, created_at=now,
            ))
    except BaseException:
        for stored in stored_names:
            storage.delete(stored)
        raise
    return pictures


def _point_at_pictures(body: str, owner, uploaded: list[Picture]) -> str:
    """`![alt](file name)` -> `![alt](/pictures/<id>/)`: the Nth mention of a name is the
    Nth picture of that name, those just sent first, then older pending ones, newest first."""
    candidates: dict[str, list[Picture]] = {}
    older = Picture.objects.for_compose(owner).exclude(pk__in=[picture.pk for picture in uploaded])
    for picture in [*uploaded, *older]:
        candidates.setdefault(picture.name, []).append(picture)
    used: dict[str, int] = {}

    def point(match):
        name = match.group(2) or match.group(3)
        pictures = candidates.get(name)
        if not pictures:
            return match.group(0)
        nth = used.get(name, 0)
        used[name] = nth + 1
        address = PICTURE_PATH.format(id=pictures[min(nth, len(pictures) - 1)].pk)
        return f"{match.group(1)}{address})"

    return _PICTURE_REFERENCE.sub(point, body)


def _file_name(upload) -> str:
    """The uploaded file's own name, as the member knows it (no folders): shown to them
    and matched in their text, never used to store anything."""
    name = " ".join((upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].split())
    return name[:FILE_NAME_MAX] or _("picture")


def pictures_upload(*, owner, files, body: str, require_placed: bool) -> str:
    """Store the pictures a member sends with a post or message they are writing, and
    return their text with `![alt](file name)` pointing at them. The pictures stay
    pending (only their owner sees them) until a post or message places them.

    Members who may write. Every file is checked and re-encoded before any is stored,
    so a refused file stores nothing. With `require_placed` (sending, not previewing),
    each file must be mentioned in the text. Raises ValidationError on "pictures".
    """
    check_active_member(owner)
    limit = settings.FORUMS_PICTURES_PER_POST
    files = files or []
    if len(files) > limit:
        raise ValidationError({"pictures": _(PICTURES_SENT_TOO_MANY).format(limit=limit, count=len(files))})
    encoded = []
    for upload in files:
        name = _file_name(upload)
        try:
            check_file_size(upload.size, name=name)
            encoded.append((name, upload.size, encode_picture(upload.read(), name=name)))
        except ValidationError as refusal:
            raise ValidationError({"pictures": refusal.messages}) from None
    if require_placed:
        mentions: dict[str, int] = {}
        for match in _PICTURE_REFERENCE.finditer(body):
            mentioned = match.group(2) or match.group(3)
            mentions[mentioned] = mentions.get(mentioned, 0) + 1
        for name, _size, _picture in encoded:
            mentions[name] = mentions.get(name, 0) - 1
            if mentions[name] < 0:
                raise ValidationError({"pictures": _(PICTURE_NOT_PLACED).format(
                    name=name, markdown=picture_markdown(name)
                )})
    uploaded = _pictures_store(owner=owner, encoded=encoded)
    return _point_at_pictures(body, owner, uploaded)


def pictures_place(*, owner, body_html: str, post: Post | None = None) -> list[int]:
    """The owner's pending pictures that `body_html` shows become placed: on `post`, or
    (without one) on the private message the caller attaches them to. Returns their
    ids. Inside the caller's posting transaction; other pictures are left as they are."""
    ids, _without_alt = placed_pictures(body_html)
    if not ids:
        return []
    # Locked, so that a picture sent with two posts at once is placed by one of them.
    mine = Picture.objects.pending().filter(owner=owner, pk__in=ids).select_for_update()
    placed = list(mine.values_list("pk", flat=True))
    Picture.objects.filter(pk__in=placed).update(post=post, placed_at=timezone.now())
    return placed


def pictures_delete(*, pictures) -> int:
    """Delete pictures (a queryset) and, once the transaction commits, their files."""
    rows = list(pictures.values_list("pk", "display", "thumbnail"))
    if not rows:
        return 0
    Picture.objects.filter(pk__in=[pk for pk, *_files in rows]).delete()
    names = [name for _pk, *files in rows for name in files]

    def delete_files():
        for name in names:
            PICTURES_STORAGE.delete(name)

    transaction.on_commit(delete_files)
    return len(rows)


@transaction.atomic
def picture_delete(*, member, picture: Picture) -> None:
    """Remove one picture: staff (from the admin), or its owner while it is pending.
    The post that showed it shows its alt text instead."""
    if not is_staff(member) and not (picture.owner_id == member.pk and picture.is_pending):
        raise PermissionDenied(_(PICTURE_NOT_YOURS))
    if picture.post_id:
        post = Post.objects.select_for_update().get(pk=picture.post_id)
        Post.objects.filter(pk=post.pk).update(body_html=without_pictures(post.body_html, [picture.pk]))
        page_cache.changed(page_cache.thread(post.thread_id))
    pictures_delete(pictures=Picture.objects.filter(pk=picture.pk))


@transaction.atomic
def member_pictures_delete(*, member) -> None:
    """For community.services.member_delete: every picture the member uploaded goes, and
    their posts show each one's alt text in its place. The caller first does the same
    for private messages (conversations.services.messages_pictures_drop)."""
    pictures = Picture.objects.filter(owner=member)
    ids = list(pictures.values_list("pk", flat=True))
    if not ids:
        return
    for post in Post.objects.filter(pictures__in=ids).distinct().only("pk", "body_html"):
        Post.objects.filter(pk=post.pk).update(body_html=without_pictures(post.body_html, ids))
    pictures_delete(pictures=pictures)
