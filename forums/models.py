from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.reversing import reverse_kept

from .querysets import (
    ForumQuerySet,
    NotificationQuerySet,
    PictureQuerySet,
    PollOptionQuerySet,
    PostQuerySet,
    SectionQuerySet,
    ThreadQuerySet,
)


class Community(models.Model):
    """The site's own words: name, tagline and welcome text. One row, from the seeds."""

    name = models.CharField(_("site name"), max_length=80)
    tagline = models.CharField(_("tagline"), max_length=300)
    welcome_title = models.CharField(_("welcome title"), max_length=120)
    join_prompt = models.CharField(_("join prompt"), max_length=120)
    support_prompt = models.CharField(_("support prompt"), max_length=120)

    # Before the seeds are loaded the site still needs a name.
    DEFAULT_NAME = "Grassroots"

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("community")

    def __str__(self):
        return self.name

    @classmethod
    def current(cls) -> "Community":
        """The site's one row, or an unsaved stand-in named DEFAULT_NAME."""
        return cls.objects.first() or cls(name=cls.DEFAULT_NAME)


class Section(models.Model):
    """A group of topic forums ("Issue Forums", "Culture Forums", ...)."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_kept("forums:section-detail", args=[self.slug])


class Forum(models.Model):
    class Kind(models.TextChoices):
        MAIN = "main", _("Main forum")
        TOPIC = "topic", _("Topic forum")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.TOPIC)
    section = models.ForeignKey(
        Section,
        verbose_name=_("section"),
        on_delete=models.PROTECT,
        related_name="forums",
        null=True,
        blank=True,
        help_text=_("Topic forums belong to a section; main forums may stand alone."),
    )
    purpose = models.TextField(_("statement of purpose"), blank=True)
    rules = models.TextField(
        _("posting rules"), blank=True, help_text=_("One rule per line, shown on the forum page.")
    )
    requires_source_link = models.BooleanField(
        _("new threads need a source link"), default=False,
        help_text=_("For news forums: the opening post must link to its source."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_featured = models.BooleanField(_("featured in the header"), default=False)
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("hosts"), related_name="hosted_forums", blank=True
    )

    # Denormalised by forums.services so that list pages never count rows.
    thread_count = models.PositiveIntegerField(_("threads"), default=0)
    post_count = models.PositiveIntegerField(_("posts"), default=0)
    last_post = models.ForeignKey(
        "Post",
        verbose_name=_("last post"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    last_post_at = models.DateTimeField(_("last post at"), null=True, blank=True)

    objects = ForumQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="main") | models.Q(section__isnull=False),
                name="topic_forum_has_section",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_kept("forums:forum-detail", args=[self.slug])

    @property
    def rule_list(self) -> list[str]:
        return [line.strip() for line in self.rules.splitlines() if line.strip()]


class Thread(models.Model):
    forum = models.ForeignKey(
        Forum, verbose_name=_("forum"), on_delete=models.PROTECT, related_name="threads"
    )
    title = models.CharField(_("title"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=80, allow_unicode=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="threads",
        db_index=False,  # thread_author_forum below starts with it
    )
    created_at = models.DateTimeField(_("created at"))
    is_pinned = models.BooleanField(_("pinned"), default=False)
    is_locked = models.BooleanField(_("locked"), default=False)
    lock_notice = models.CharField(_("lock notice"), max_length=300, blank=True)
    # Set once, when the thread starts with a poll: a thread page asks for the poll only
    # then, so the pages of the many threads without one cost no query for it.
    has_poll = models.BooleanField(_("has a poll"), default=False)

    # Kept exact by forums.services inside the posting transaction. reply_count is
    # also the number of the newest reply, because replies are never removed (a
    # deleted reply leaves its placeholder in the tree).
    reply_count = models.PositiveIntegerField(_("replies"), default=0)
    # The opening post's recommendations, shown on thread lists.
    recommendation_count = models.PositiveIntegerField(_("recommendations"), default=0)
    # Readers, each counted once per FORUMS_VIEW_COUNT_WINDOW_MINUTES; counted in the
    # cache and added here in batches (forums.view_counts), so it runs a little behind.
    view_count = models.PositiveIntegerField(_("views"), default=0)
    last_activity_at = models.DateTimeField(_("last activity"))
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last poster"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        indexes = [
            # The forum page: pinned first, then by last activity. With the author in
            # it, a member's deep page (skipping threads of members they ignore) is
            # found in the index alone.
            models.Index(
                "forum", models.F("is_pinned").desc(), models.F("last_activity_at").desc(),
                models.F("id").desc(), "author",
                name="thread_forum_page",
            ),
            # A member's count of a forum's threads (with_listed_count) and of Latest's
            # finds their ignored members' threads in a forum here, not by reading
            # every thread of the forum (0.02 ms against 0.23 at 4,600 threads).
            models.Index(fields=["author", "forum"], name="thread_author_forum"),
            # Latest and the front page: newest first, the id breaking ties. Without
            # the id in the index SQLite sorts every thread for each page.
            models.Index(
                models.F("created_at").desc(), models.F("id").desc(), name="thread_newest_first"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse_kept("forums:thread-detail", args=[self.pk, self.slug])

    def get_view_all_url(self):
        return reverse_kept("forums:thread-all", args=[self.pk, self.slug])


class Post(models.Model):
    """The opening post (number 0, no parent) or a reply (number 1..N, with a parent)."""

    # A reply's place in the tree is the chain of its ancestors' numbers, each padded
    # to NUMBER_WIDTH digits; ordering by it gives the reply index in tree order
    # with one indexed scan. Nesting stops at MAX_DEPTH so paths stay short enough
    # to index: deeper answers are shown as siblings of the post they answer.
    NUMBER_WIDTH = 7
    MAX_DEPTH = 40

    # No index of its own: (thread, number) and (thread, tree_path, id) both start with
    # it. With one, PostgreSQL's one plan for a prepared page of replies read the
    # thread by it and sorted all its replies (204 ms for a thread of 31,000), as it
    # fits the average thread; without it, the one plan reads the tree's index in
    # order and stops at the page (0.3-0.6 ms, from a thread of 28 replies to 31,000).
    thread = models.ForeignKey(
        Thread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="posts", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="posts",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("in reply to"),
        on_delete=models.PROTECT,
        related_name="replies",
        null=True,
        blank=True,
    )
    number = models.PositiveIntegerField(_("number"))
    tree_path = models.CharField(_("tree path"), max_length=NUMBER_WIDTH * MAX_DEPTH)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0)
    subject = models.CharField(_("subject"), max_length=150)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body (rendered HTML)"))
    # Plain text of the body, made with the HTML at write time: what search indexes and
    # quotes in its snippets. The search index itself is kept by the database (see
    # migration 0005_search): an FTS5 table on SQLite, a tsvector column on PostgreSQL.
    body_text = models.TextField(_("body (plain text)"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"))
    recommendation_count = models.PositiveIntegerField(_("recommendations"), default=0)
    edited_at = models.DateTimeField(_("last edited at"), null=True, blank=True)
    edit_count = models.PositiveIntegerField(_("edits"), default=0)
    # Deleted by its author: the placeholder stays in the tree, the text is hidden.
    is_deleted = models.BooleanField(_("deleted"), default=False)
    # Hidden by a jury or staff (moderation.services): others see a placeholder.
    is_hidden = models.BooleanField(_("hidden"), default=False)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "number"], name="post_unique_number"),
        ]
        indexes = [
            # With the id in it (PostgreSQL's indexes hold no row id; SQLite's hold it
            # anyway), a deep page of a long thread skips replies in the index alone.
            models.Index(fields=["thread", "tree_path", "id"], name="post_thread_tree"),
            models.Index(
                "author", models.F("created_at").desc(), name="post_author_newest"
            ),
            # A profile's "hidden lately": found among the few hidden posts, not by
            # reading every post of a prolific author.
            models.Index(
                fields=["author", "hidden_at"], condition=models.Q(is_hidden=True), name="post_hidden_by_author"
            ),
        ]

    def __str__(self):
        return self.subject

    @property
    def is_opening_post(self) -> bool:
        return self.parent_id is None

    def get_absolute_url(self):
        if self.is_opening_post:
            return self.thread.get_absolute_url()
        return reverse("forums:post-jump", args=[self.thread_id, self.number])


class Poll(models.Model):
    """A question the opening post asks the members, with 2 to 20 options. Its thread
    is its key, so a member's votes on a thread page are found by the thread's id."""

    class Results(models.TextChoices):
        AFTER_VOTING = "voted", _("to members who voted, and to everyone once it closes")
        AFTER_CLOSING = "closed", _("to everyone once it closes")
        ALWAYS = "always", _("to everyone at any time")

    thread = models.OneToOneField(
        Thread, verbose_name=_("thread"), on_delete=models.CASCADE, primary_key=True, related_name="poll"
    )
    question = models.CharField(_("question"), max_length=300)
    # 1: a single choice; more: up to this many options.
    max_choices = models.PositiveSmallIntegerField(_("choices per member"), default=1)
    allows_vote_change = models.BooleanField(_("members may change their vote"), default=False)
    results_shown = models.CharField(
        _("results shown"), max_length=10, choices=Results, default=Results.AFTER_VOTING
    )
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    # Closed early by a host or staff (moderation.services.poll_close logs it).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    # Kept exact by forums.polls inside the voting transaction, so results never count rows.
    voter_count = models.PositiveIntegerField(_("voters"), default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(max_choices__gte=1), name="poll_max_choices_positive"),
        ]

    def __str__(self):
        return self.question

    def is_closed(self, now=None) -> bool:
        now = now or timezone.now()
        return self.closed_at is not None or (self.closes_at is not None and self.closes_at <= now)


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, verbose_name=_("poll"), on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("option"), max_length=200)
    vote_count = models.PositiveIntegerField(_("votes"), default=0)

    objects = PollOptionQuerySet.as_manager()

    class Meta:
        ordering = ["poll", "position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position"),
        ]

    def __str__(self):
        return self.text


class PollVote(models.Model):
    """A member's vote in a poll: one per member and poll (the constraint keeps it so
    when two requests race), with the options it chose (PollChoice)."""

    poll = models.ForeignKey(Poll, verbose_name=_("poll"), on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.CASCADE, related_name="poll_votes"
    )
    cast_at = models.DateTimeField(_("cast at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "member"], name="poll_vote_once"),
        ]

    def __str__(self):
        return f"{self.member} in {self.poll}"


class PollChoice(models.Model):
    vote = models.ForeignKey(PollVote, on_delete=models.CASCADE, related_name="choices")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="choices")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "option"], name="poll_choice_once"),
        ]


class PostRevision(models.Model):
    """An earlier version of a post, kept each time it is edited."""

    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="revisions"
    )
    subject = models.CharField(_("subject"), max_length=150)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body (rendered HTML)"))
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        ordering = ["-written_at", "-id"]

    def __str__(self):
        return f"{self.post} ({self.written_at:%Y-%m-%d %H:%M})"


class _PicturesStorage(LazyObject):
    """STORAGES["pictures"], looked up when first used, and again after a change of the
    STORAGES setting (tests point it at a temporary folder or a local S3 server)."""

    def _setup(self):
        self._wrapped = storages["pictures"]


PICTURES_STORAGE = _PicturesStorage()


@receiver(setting_changed)
def _pictures_storage_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        PICTURES_STORAGE._wrapped = empty


def pictures_storage():
    """The pictures' storage: a folder, or an S3-compatible store (config/settings.py)."""
    return PICTURES_STORAGE


class Picture(models.Model):
    """A picture a member uploaded, re-encoded (forums.pictures): a display size and a
    thumbnail, under random names. Pending, shown only to its owner, until a post
    (`post`) or a private message (conversations.Message.pictures) places it."""

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"
        GIF = "GIF", "GIF"
        WEBP = "WEBP", "WebP"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
        related_name="pictures",
    )
    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="pictures",
        null=True, blank=True,
    )
    placed_at = models.DateTimeField(_("placed at"), null=True, blank=True)
    # The file's name on the member's computer: how they refer to it while writing.
    name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=4, choices=Format)
    display = models.FileField(_("display size"), storage=pictures_storage, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), storage=pictures_storage, max_length=200)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    # What the member sent, counted against their daily allowance.
    uploaded_bytes = models.PositiveIntegerField(_("uploaded bytes"))
    created_at = models.DateTimeField(_("uploaded at"))

    objects = PictureQuerySet.as_manager()

    class Meta:
        verbose_name = _("picture")
        verbose_name_plural = _("pictures")
        indexes = [
            # The daily allowance and the member's pending pictures.
            models.Index("owner", models.F("created_at").desc(), name="picture_owner_newest"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pictures:picture", args=[self.pk])

    def get_thumbnail_url(self):
        return reverse("pictures:picture-thumbnail", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.placed_at is None


class ForumBlock(models.Model):
    """A member blocked from posting in one forum by its hosts or staff."""

    forum = models.ForeignKey(
        Forum, verbose_name=_("forum"), on_delete=models.CASCADE, related_name="blocks"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.CASCADE,
        related_name="forum_blocks",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("blocked at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["forum", "member"], name="forum_block_once")
        ]

    def __str__(self):
        return f"{self.member} in {self.forum}"


class ThreadSubscription(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="thread_subscriptions"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "thread"], name="thread_subscription_once")
        ]


class ForumSubscription(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forum_subscriptions"
    )
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "forum"], name="forum_subscription_once")
        ]


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("replied to your post")
        THREAD = "thread", _("replied in a thread you follow")
        FORUM = "forum", _("started a thread in a forum you follow")
        MENTION = "mention", _("mentioned you")
        RECOMMEND = "recommend", _("recommended your post")
        JURY = "jury", _("You were seated on a jury")
        VERDICT = "verdict", _("A jury reached its verdict")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    # Empty for notifications that come from the community rather than one member.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    jury = models.ForeignKey(
        "moderation.Jury", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index("recipient", models.F("created_at").desc(), name="notification_inbox")
        ]


class Recommendation(models.Model):
    """A member recommends a post, once; undoing deletes the row."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recommendations"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="recommendations")
    # Denormalised from the post so /greatest/ groups by thread without a join.
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "post"], name="recommend_once")
        ]
        indexes = [
            models.Index(fields=["post", "created_at"], name="recommendation_order"),
            models.Index(fields=["created_at", "thread"], name="recommendation_recent"),
        ]


class ForumRead(models.Model):
    """When a member last marked a forum read: older posts there count as read."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "forum"], name="forum_read_once")]


class ThreadVisit(models.Model):
    """A member's last visit of a thread and how many replies it had then.

    Replies are numbered in posting order, so "new since the visit" is simply
    reply_count - seen_reply_count: no row per post is ever stored.
    """

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    visited_at = models.DateTimeField()
    seen_reply_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "thread"], name="thread_visit_once")
        ]


class TrashedThread(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trashed_threads"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "thread"], name="trash_thread_once")]


class TrashedForum(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trashed_forums"
    )
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="trashings")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "forum"], name="trash_forum_once")]


class IgnoredMember(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ignoring"
    )
    ignored = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ignored_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "ignored"], name="ignore_once"),
            models.CheckConstraint(condition=~models.Q(member=models.F("ignored")), name="ignore_not_self"),
        ]
