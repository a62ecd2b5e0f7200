"""The HTML that pages repeat for every row: posts and the reply index on thread pages,
the rows of thread and forum lists, a member's recent posts.

A member's "View all" page of 50 replies spent about three quarters of its time in the
template language: some 330 URL reversals, 520 translations and 100 date formats,
most of them the same few strings again for each post, and list pages fared alike
(bench/profile_page.py shows where the time goes). So rows are built here, with URLs
filled into prefixes reversed once (url_filler), and words translated, dates and
numbers formatted once per page; the templates keep everything around them.

A post is put together in two parts:

- What every reader sees alike (the header, the body, the "Last edited" line and the
  recommendation count) comes from the partials of forums/_post.html, rendered once
  per version of the post and cached, shared by every member. The cache key is a
  digest of everything those partials show (the post's text and counters, its
  author's name, badges and post count, the reader's time zone and language, and the
  template itself), so an edit, a hiding, a new recommendation or a renamed author
  makes a new key and the old entry simply expires: nothing has to be invalidated.
- What is the reader's own is added per request: the ★ new marker, a post by an
  ignored member folded away, a hidden post's text for staff (rare, so from partials
  too), and the actions offered, built here for every post with URLs filled into
  prefixes reversed once per page and words translated once per page. The buttons
  post through one form per page (`ACTION_FORM`), which carries the only CSRF token
  they need.

Everything printed is escaped here or in the partials; post bodies come only from
forums.rendering, as everywhere else.
"""

import functools
import hashlib
import html
import operator
import re
import time
from collections import namedtuple
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.core.cache import caches
from django.templatetags.static import static
from django.template.defaultfilters import truncatechars, truncatewords
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import numberformat, timezone, translation
from django.utils.dateformat import format as format_date
from django.utils.formats import get_format
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import MONTHS_DAYS, TIME_CHUNKS, timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.standing import can_write, is_staff
from config import prepared
from config.kept import Made

from . import permissions
from .querysets import THREAD_ROW_COLUMNS
from .reading import new_reply_rule
from .tree import nest

POST_TEMPLATE = "forums/_post.html"
# The page-level form every post action button submits (templates/forums/thread_base.html).
ACTION_FORM = "actions"
# Where the reader's ★ goes in a cached header; text from a post can never produce it,
# because it is escaped.
NEW_MARKER_SLOT = mark_safe("<!--new-marker-->")
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
# What quote() leaves as it is, whatever `safe` says: ASCII letters, digits and "_.-~".
_NEEDS_NO_QUOTING = re.compile(r"[A-Za-z0-9_.\-~]*\Z").match


def escape(text) -> SafeString:
    """django.utils.html.escape, without the look for lazy strings that its decorator
    makes of every call (a third of the call's time): a reply index escapes some 400
    strings. A lazy string is translated here and now, as the page is made."""
    return SafeString(html.escape(str(text)))


def fragment_cache():
    return caches[settings.FORUMS_FRAGMENT_CACHE]


class _ProcessCopies:
    """Fragments this process read from the fragment cache or made lately, kept here
    too for as long as the cache keeps them. Only for keys that name their content (a
    digest of everything the fragment shows, or the versions that every change to it
    bumps), so a copy is never out of date. Read from here, a thread page's 50 posts
    cost no round trip to the cache and no unpickling: with Redis, that was a network
    request and some 100 KB to unpickle on every member's page.

    Bounded by the text the copies hold, not by their number: a post with a long body
    holds a hundred times the text of a forum's row, and 4,096 of the soak's posts took
    32 MB, a fifth of a worker's 150 MB. Emptied when a copy would take it past TEXT."""

    TEXT = 8_000_000  # characters: the posts of some 80 pages of 50 long replies

    def __init__(self):
        self._copies = {}
        self._text = 0

    def get_many(self, keys) -> dict:
        now, copies, found = time.monotonic(), self._copies, {}
        for key in keys:
            copy = copies.get(key)
            if copy is not None and copy[0] > now:
                found[key] = copy[1]
        return found

    def set_many(self, values: dict, seconds: int):
        copies, until = self._copies, time.monotonic() + seconds
        for key, value in values.items():
            text = _text_in(value)
            if self._text + text > self.TEXT:
                self.clear()
            replaced = copies.get(key)
            if replaced is not None:
                self._text -= replaced[2]
            copies[key] = (until, value, text)
            self._text += text

    def clear(self):
        self._copies.clear()
        self._text = 0


def _text_in(value) -> int:
    """The characters of text in a fragment: a string, or tuples and lists of them."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (tuple, list)):
        return sum(map(_text_in, value))
    return 0


_COPIES = _ProcessCopies()


def kept_fragments(keys: list, seconds: int) -> dict:
    """The fragments of `keys` found in this process's copies or the fragment cache, by
    key; those found in the cache are copied here for `seconds`, the time they are
    stored for (keep_fragments). Keys must name their content (see _ProcessCopies)."""
    found = _COPIES.get_many(keys)
    if len(found) < len(keys):
        shared = fragment_cache().get_many([key for key in keys if key not in found])
        if shared:
            _COPIES.set_many(shared, seconds)
            found.update(shared)
    return found


def keep_fragments(values: dict, seconds: int):
    """Store `values` (fragments by key, each key naming its content) in the fragment
    cache and in this process's copies, for `seconds`."""
    fragment_cache().set_many(values, seconds)
    _COPIES.set_many(values, seconds)


def kept_or_made(key: str, make):
    """The fragment of `key` (which names its content: _rows_key) from this process's
    copies or the fragment cache, else `make()`'s, then kept for
    FORUMS_FRAGMENT_CACHE_SECONDS."""
    value = kept_fragments([key], settings.FORUMS_FRAGMENT_CACHE_SECONDS).get(key)
    if value is None:
        value = make()
        keep_fragments({key: value}, settings.FORUMS_FRAGMENT_CACHE_SECONDS)
    return value


# This process's copy of a few large values under their newest key only (kept_newest).
_NEWEST: dict[str, tuple] = {}


def kept_newest(slot: str, key: str, seconds: int, make):
    """The value of `key` (which names its content) from this process's copy, the
    fragment cache, or `make()`, which is then stored in the cache for `seconds`. The
    process keeps one copy per `slot`, the newest key's: for large values whose key
    every write changes (All Forums' 115 rows), which _ProcessCopies would pile up, a
    copy for each write, until it holds 4,096 of them."""
    now = time.monotonic()
    kept_key, until, value = _NEWEST.get(slot, (None, 0.0, None))
    if kept_key == key and now < until:
        return value
    value = fragment_cache().get(key)
    if value is None:
        value = make()
        fragment_cache().set(key, value, seconds)
    _NEWEST[slot] = (key, now + seconds, value)
    return value


def forget_process_copies():
    """Drop this process's copies of fragments (tests; measuring cold renders)."""
    _COPIES.clear()
    _NEWEST.clear()
    _POST_KEYS.clear()
    _ACTIONS.clear()


class _Slot:
    def __init__(self, kind):
        self.kind = kind


# The arguments url_filler() leaves open: a row id or number, or a name (username, slug).
NUMBER, NAME = _Slot("number"), _Slot("name")


def url_filler(viewname, *args):
    """A function that makes `reverse(viewname, args=...)` for any values of the
    arguments given as NUMBER or NAME, from one reversal with a stand-in for each
    (which passes its converter and cannot occur in the URL otherwise). Names are
    quoted as reverse() quotes them; numbers need no quoting. Kept per URL
    configuration and script prefix, which is all a reversed URL depends on."""
    return _url_filler(viewname, args, settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())


@functools.lru_cache(maxsize=512)
def _url_filler(viewname, args, _root_urlconf, _urlconf, _script_prefix):
    stand_ins = [
        (str(987654321987654300 + n) if arg.kind == "number" else f"url-slot-{n}", arg.kind)
        for n, arg in enumerate(args) if isinstance(arg, _Slot)
    ]
    it = iter(stand_ins)
    url = reverse(viewname, args=[next(it)[0] if isinstance(arg, _Slot) else arg for arg in args])
    # reverse() percent-encodes braces, so the URL has none of its own.
    pattern = url
    for n, (stand_in, _kind) in enumerate(stand_ins):
        if pattern.count(stand_in) != 1:
            raise ValueError(f"{viewname}: cannot tell the arguments in {url}")
        pattern = pattern.replace(stand_in, "{%d}" % n)
    kinds = [kind for _stand_in, kind in stand_ins]
    if kinds == ["number"]:
        head, _n, tail = pattern.partition("{0}")
        return lambda number: f"{head}{int(number)}{tail}"
    if kinds == ["name"]:
        # A member's profile: one for each line of a reply index's 200. Most names
        # need no quoting, and telling so is quicker than quote().
        head, _n, tail = pattern.partition("{0}")
        return lambda name: f"{head}{name if _NEEDS_NO_QUOTING(name) else quote(name, safe=_URL_SAFE)}{tail}"

    def fill(*values):
        return pattern.format(*(
            int(value) if kind == "number" else quote(value, safe=_URL_SAFE)
            for value, kind in zip(values, kinds, strict=True)
        ))

    return fill


class Counts:
    """The |intcomma filter for many numbers of one page: the language's separators
    are looked up once."""

    def __init__(self):
        language = translation.get_language()
        self._separators = (
            get_format("DECIMAL_SEPARATOR", language), None, get_format("NUMBER_GROUPING", language),
            get_format("THOUSAND_SEPARATOR", language),
        )

    def __call__(self, number: int) -> str:
        return numberformat.format(number, *self._separators, force_grouping=True, use_l10n=True)


# The counts lists print, each "%(counter)s ..." in its plural forms.
_COUNTED = {
    "replies": lambda count: ngettext("%(counter)s reply", "%(counter)s replies", count),
    "new": lambda count: ngettext("%(counter)s new", "%(counter)s new", count),
    "recommendations": lambda count: ngettext(
        "%(counter)s recommendation", "%(counter)s recommendations", count
    ),
    "forums": lambda count: ngettext("%(counter)s forum", "%(counter)s forums", count),
}


@functools.lru_cache(maxsize=4096)
def counted(language: str, kind: str, count: int) -> str:
    """`count` in words (_COUNTED[kind]), escaped, in `language` (the active one, which
    the key needs): kept for the process, because a list of 30 threads asked for 30
    plural forms, each a walk through the translation machinery that took a quarter of
    the list's rows."""
    return escape(_COUNTED[kind](count) % {"counter": count})


@functools.lru_cache(maxsize=1024)
def _purpose_excerpt(purpose: str) -> str:
    return escape(truncatewords(purpose, 24))


@dataclass(frozen=True, slots=True)
class _Author:
    """A member as far as a link to them needs (MemberLinks.author_of)."""

    pk: int
    username: str
    display_name: str
    deleted_at: datetime | None

    public_name = property(User.public_name.fget)


class AuthorFacts:
    """What a post's header shows of its author, from a row of values. The rules that
    decide a name, a tier and a profile's address are the User model's own."""

    __slots__ = ("pk", "username", "display_name", "deleted_at", "avatar_name", "post_count", "star_until",
                 "is_staff", "is_active")
    is_authenticated = True

    def __init__(self, pk, username, display_name, deleted_at, avatar_name, post_count, star_until,
                 is_staff, is_active):
        self.pk, self.username, self.display_name, self.deleted_at = pk, username, display_name, deleted_at
        self.avatar_name, self.post_count, self.star_until = avatar_name, post_count, star_until
        self.is_staff, self.is_active = is_staff, is_active

    @classmethod
    def of(cls, member) -> "AuthorFacts":
        return cls(member.pk, member.username, member.display_name, member.deleted_at, member.avatar.name,
                   member.post_count, member.star_until, member.is_staff, member.is_active)

    public_name = property(User.public_name.fget)
    tier = property(User.tier.fget)
    is_star = property(User.is_star.fget)
    get_absolute_url = User.get_absolute_url

    @property
    def avatar_url(self) -> str:
        if self.avatar_name:
            return User._meta.get_field("avatar").storage.url(self.avatar_name)
        return static("img/avatar.svg")


class PostFacts:
    """What a thread page shows of a post (PostQuerySet.for_thread_page), with its author."""

    __slots__ = ("pk", "thread_id", "author_id", "parent_id", "number", "depth", "subject", "body_html",
                 "created_at", "recommendation_count", "edited_at", "edit_count", "is_deleted", "is_hidden",
                 "parent_number", "author")

    @classmethod
    def of(cls, post) -> "PostFacts":
        """From a row of PostQuerySet.for_thread_page, or from a Post with its author."""
        if isinstance(post, cls):
            return post
        facts = cls()
        for name in cls.__slots__[:-2]:
            setattr(facts, name, getattr(post, name))
        facts.parent_number = getattr(post, "parent_number", None)
        if hasattr(post, "author__username"):
            facts.author = AuthorFacts(
                post.author_id, post.author__username, post.author__display_name, post.author__deleted_at,
                post.author__avatar, post.author__post_count, post.author__star_until, post.author__is_staff,
                post.author__is_active,
            )
        else:
            facts.author = AuthorFacts.of(post.author)
        return facts

    @property
    def is_opening_post(self) -> bool:
        return self.parent_id is None


@functools.cache
def _linked_member_facts(prefix: str):
    """What author_of reads of a row, under `prefix`, in one call."""
    return operator.attrgetter(
        f"{prefix}_id", f"{prefix}__username", f"{prefix}__display_name", f"{prefix}__deleted_at"
    )


class MemberLinks:
    """{% member_link %} for many members of one page: each profile URL is filled into
    one reversed prefix, each member's link made once; and their avatars."""

    def __init__(self):
        self._profile_url = url_filler("members:member-detail", NAME)
        self._links = {}
        self._members = {}
        self._avatars = {}
        self._default_avatar = None

    def avatar(self, member) -> str:
        """A small avatar beside a row that names the member in words too, so the image
        says nothing more (alt=""). The default image for members without one."""
        avatar = self._avatars.get(member.pk)
        if avatar is None:
            avatar = self._avatars[member.pk] = (
                self._image(member.avatar.url) if member.avatar else self._default()
            )
        return avatar

    @staticmethod
    def _image(url) -> str:
        return f'<img class="avatar" src="{escape(url)}" alt="" width="24" height="24" loading="lazy">'

    def _default(self) -> str:
        # Looked up once a page: a static file's hashed name costs as much as a row.
        if self._default_avatar is None:
            self._default_avatar = self._image(static("img/avatar.svg"))
        return self._default_avatar

    def avatar_of(self, pk, avatar_name) -> str:
        """avatar() for the member `pk` whose avatar's file name a row of values holds."""
        avatar = self._avatars.get(pk)
        if avatar is None:
            avatar = self._avatars[pk] = (
                self._image(User._meta.get_field("avatar").storage.url(avatar_name)) if avatar_name
                else self._default()
            )
        return avatar

    def link(self, member) -> str:
        link = self._links.get(member.pk)
        if link is None:
            name = escape(member.public_name)
            if member.deleted_at:
                link = name
            else:
                link = f'<a href="{self._profile_url(member.username)}">{name}</a>'
            self._links[member.pk] = link
        return link

    def author_of(self, row, prefix="author"):
        """The member whose id, username, display name and deletion time a row of values
        holds under `prefix` (PostQuerySet.for_reply_index, ForumQuerySet.for_listing),
        as far as a link needs: a whole User instance costs more to make than the line
        it is for."""
        facts = _linked_member_facts(prefix)(row)
        member = self._members.get(facts[0])
        if member is None:
            member = self._members[facts[0]] = _Author(*facts)
        return member


class LocalDates:
    """The |date filter for many times of one page, in the reader's time zone, each day
    formatted once (`day_format`: a format, or the name of one such as "DATE_FORMAT")."""

    def __init__(self, day_format: str):
        self._format = get_format(day_format)
        self._language = translation.get_language()
        self._zone = timezone.get_current_timezone()
        self._days = {}

    def iso(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).isoformat()

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self._zone)

    def day(self, moment: datetime, *, local: datetime | None = None) -> str:
        """`moment` in words; `local`, when the caller has it, is the moment in the
        reader's time zone."""
        local = local or moment.astimezone(self._zone)
        key = (local.year, local.month, local.day)
        text = self._days.get(key)
        if text is None:
            text = self._days[key] = _day_text(self._format, self._language, key, local)
        return text


def _day_text(day_format, language, day, local) -> str:
    """A day in words, kept for the process: an index page of 200 replies from as many
    days spent much of its time formatting them. The format, the language and the
    day's own parts make the key, not the moment."""
    return _DAY_TEXTS.get((day_format, language, day), lambda: escape(format_date(local, day_format)))


_DAY_TEXTS = Made(8192)


class RelativeTimes:
    """The |naturaltime filter ("3 hours ago", "2 days, 4 hours ago") for many times of
    one page, as of one moment: each wording is made once per page. naturaltime
    translates its words through lazy strings, a fifth of All Forums' time for a
    hundred forums; most of a page's times share a wording ("2 weeks ago")."""

    def __init__(self, now: datetime | None = None):
        self._now = now or datetime.now(UTC)
        self._texts = {}

    def __call__(self, moment: datetime) -> str:
        now = self._now.astimezone(moment.tzinfo)
        if moment >= now:
            # Only a clock set differently elsewhere makes a future time here: rare.
            return escape(naturaltime(moment))
        delta = now - moment
        if delta.days:
            key = _calendar_span(moment, now)
        else:
            seconds = delta.seconds
            key = ("hours", seconds // 3600) if seconds >= 3600 else (
                ("minutes", seconds // 60) if seconds >= 60 else ("seconds", seconds)
            )
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = escape(self._wording(moment, now, delta))
        return text

    @staticmethod
    def _wording(moment, now, delta) -> str:
        """naturaltime's own text for a past moment, as of `now`."""
        words = NaturalTimeFormatter.time_strings
        if delta.days:
            since = timesince(moment, now, time_strings=NaturalTimeFormatter.past_substrings)
            return words["past-day"] % {"delta": since}
        seconds = delta.seconds
        if seconds >= 3600:
            return words["past-hour"] % {"count": seconds // 3600}
        if seconds >= 60:
            return words["past-minute"] % {"count": seconds // 60}
        return words["past-second"] % {"count": seconds} if seconds else words["now"]


def _calendar_span(moment: datetime, now: datetime) -> tuple:
    """What django.utils.timesince.timesince prints of the time from `moment` to `now`
    (both in one zone): its first two units and their counts, found as it finds them
    (whole years and months by the calendar, then weeks, days, hours, minutes)."""
    months = (now.year - moment.year) * 12 + now.month - moment.month
    if moment.day > now.day or (moment.day == now.day and moment.time() > now.time()):
        months -= 1
    years, months = divmod(months, 12)
    pivot = moment
    if years or months:
        year, month = moment.year + years, moment.month + months
        if month > 12:
            year, month = year + 1, month - 12
        pivot = moment.replace(year=year, month=month, day=min(MONTHS_DAYS[month - 1], moment.day), microsecond=0)
    remaining = (now - pivot).total_seconds()
    counts = [years, months]
    for chunk in TIME_CHUNKS:
        count = int(remaining // chunk)
        counts.append(count)
        remaining -= chunk * count
    first = next((n for n, count in enumerate(counts) if count), len(counts))
    return tuple(counts[first:first + 2]), first


def _partial(name, context, *, holds_post_html=False) -> str:
    """A partial of _post.html, without the indentation its template tags leave between
    tags: one newline stands for the run of white space, as it does in HTML. Text is
    left as written (a title or a lock notice is printed exactly), and partials that
    hold a post's own HTML, which may have a <pre>, are only trimmed."""
    html = get_template(f"{POST_TEMPLATE}#{name}").render(context).strip()
    return html if holds_post_html else _SPACE_BETWEEN_TAGS.sub(">\n<", html)


_SPACE_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")


def _template_digest() -> str:
    """Part of every cache key: a changed _post.html (a new release, or an edit while
    developing, which reloads the template) makes new keys."""
    global _DIGESTED
    template = get_template(POST_TEMPLATE).template
    if _DIGESTED[0] is not template:
        _DIGESTED = (template, hashlib.blake2b(template.source.encode(), digest_size=6).hexdigest())
    return _DIGESTED[1]


_DIGESTED = (None, "")


def _new_marker() -> str:
    """The reader's ★ and the space that parts it from the subject: the same for every
    page in one language, so rendered once per language and version of _post.html."""
    return _new_marker_in(_template_digest(), translation.get_language())


@functools.lru_cache(maxsize=64)
def _new_marker_in(_digest, _language) -> str:
    return _partial("new-marker", {}) + " "


# The words of a post's actions, escaped, per language (the key; they are translated
# into the active one): some twenty translations looked up for every thread page were
# a twentieth of its time.
@functools.lru_cache(maxsize=64)
def _action_words(_language) -> dict[str, str]:
    words = {
        "actions": _("Actions"), "reply": _("Reply"), "quote": _("Quote"), "edit": _("Edit"),
        "delete": _("Delete"), "alert": _("Alert"), "hide": _("Hide"), "unhide": _("Unhide"),
        "recommend": _("Recommend"), "unrecommend": _("Unrecommend"), "more": _("More"),
        "trash": _("Trash: hide this thread from my lists"),
    }
    return {name: escape(word) for name, word in words.items()}


@functools.lru_cache(maxsize=64)
def _ignore_words(_language) -> dict:
    """The words of ignoring a post's author, per language as _action_words; the names go
    in before escaping."""
    return {
        True: _("Stop ignoring %(name)s"), False: _("Ignore %(name)s"),
        "ignoring": _("You are ignoring %(name)s"), "show": escape(_("show this post")),
    }


# Post keys (PostRenderer._key) this process worked out, by the facts they digest:
# forty pages of 50 posts, under 2 MB; each is only a few microseconds to make again.
_POST_KEYS = Made(2048)
# Posts' actions (PostRenderer._kept_actions) this process built, by what they depend
# on: twenty pages of 50 posts, about 1 MB.
_ACTIONS = Made(1024)


class PostRenderer:
    """Posts as one reader sees them on one page.

    `host_ids` get the Host badge; `new_after`, `ignored_ids`, `my_recommendations`
    and `trashed` are the reader's (forums.reading.member_thread_state); `actions`
    offers the reader's actions (they post through ACTION_FORM, which the page must hold);
    `heading` is the level of a post's heading where the page's outline needs
    another than 1 for the opening post and 3 for replies; `recommenders` are the
    opening post's (rows of forums.querysets.recommender_rows).
    """

    def __init__(self, *, user, thread, host_ids=frozenset(), new_after=None, ignored_ids=frozenset(),
                 my_recommendations=frozenset(), trashed=False, recommenders=(), show_parent=False,
                 actions=True, heading=None):
        self.user = user
        self.thread = thread
        self.host_ids = host_ids
        self.new_after = new_after
        self.new_reply = new_reply_rule(user, new_after)
        self.ignored_ids = ignored_ids
        self.my_recommendations = my_recommendations
        self.trashed = trashed
        self.recommenders = recommenders
        self.show_parent = show_parent
        self.heading = heading
        self.member = user if getattr(user, "is_authenticated", False) else None
        self.actions = actions and self.member is not None
        # A visitor gets a "Reply" on each post that leads, through the login page, to
        # its reply form: the same for every visitor, so cached pages stay right.
        self.visitor_reply = actions and self.member is None and not thread.is_locked
        language = self.language = translation.get_language()
        self.reader_key = (timezone.get_current_timezone_name(), language)
        self.template_digest = _template_digest()
        self.key_prefix = f"post:{self.template_digest}:"
        self.words = _action_words(language)
        if self.member is not None:
            self.ignore_words = _ignore_words(language)
        if self.actions:
            self._prepare_actions()
        elif self.visitor_reply:
            self.reply_url = url_filler("forums:reply-create", thread.pk, NUMBER)

    # What every reader sees alike.

    def _level(self, post) -> str:
        return str(self.heading or ("1" if post.is_opening_post else "3"))

    def _key(self, post) -> str:
        author = post.author
        facts = (
            post.pk, post.thread_id, post.number, post.subject, post.created_at, post.edited_at,
            post.edit_count, post.recommendation_count, post.is_deleted, post.is_hidden,
            post.parent_id, post.depth, post.parent_number,
            author.pk, author.username, author.display_name, author.deleted_at, author.avatar_name,
            author.post_count, author.is_star, is_staff(author), post.author_id in self.host_ids,
            self._level(post), self.show_parent, self.reader_key,
            (self.thread.title, self.thread.lock_notice) if post.is_opening_post else None,
        )
        # The digest of the same facts again (every member reading the same page) is
        # looked up in this process rather than worked out: the repr of a post's facts
        # and its digest took 8 µs, a tenth of a page of 50 posts' own time. The body
        # is known by its hash, not kept: 4,096 bodies were some 8 MB per worker.
        return _POST_KEYS.get((self.key_prefix, facts, hash(post.body_html)), lambda: self._digest(post, facts))

    def _digest(self, post, facts) -> str:
        digest = hashlib.blake2b(repr(facts).encode(), digest_size=16)
        digest.update(post.body_html.encode())
        return f"{self.key_prefix}{post.pk}:{digest.hexdigest()}"

    def _render_shared(self, post) -> tuple[str, str, str, str, str]:
        context = {
            "post": post, "thread": self.thread, "level": self._level(post),
            "show_parent": self.show_parent, "is_host": post.author_id in self.host_ids,
            "new_marker": NEW_MARKER_SLOT,
        }
        header = _partial("header", context)
        before, _slot, after = header.partition(NEW_MARKER_SLOT)
        return (
            before, after, _partial("body", context, holds_post_html=True), _partial("edited", context),
            _partial("count", context),
        )

    def _shared(self, posts) -> dict:
        """Each post's shared parts, by post id: from the cache, the missing ones
        rendered and stored (one round trip each way, whatever the number of posts)."""
        keys = {post.pk: self._key(post) for post in posts}
        found = kept_fragments(list(keys.values()), settings.FORUMS_FRAGMENT_CACHE_SECONDS)
        parts, missing = {}, {}
        for post in posts:
            key = keys[post.pk]
            if key in found:
                parts[post.pk] = found[key]
            else:
                parts[post.pk] = missing[key] = self._render_shared(post)
        if missing:
            keep_fragments(missing, settings.FORUMS_FRAGMENT_CACHE_SECONDS)
        return parts

    # The reader's own parts.

    def _is_new(self, post) -> bool:
        return not post.is_opening_post and self.new_reply(post)

    def _body(self, post, body: str, edited: str) -> str:
        if post.is_deleted:
            return body
        if post.is_hidden:
            return _partial("hidden-body", {"post": post, "user": self.user}, holds_post_html=True)
        if post.author_id in self.ignored_ids:
            # Folded away: built here rather than from a partial, as a page may hold many.
            ignoring = escape(self.ignore_words["ignoring"] % {"name": post.author.public_name})
            return (
                f'<details class="ignored-post">\n<summary>{ignoring} – {self.ignore_words["show"]}</summary>\n'
                f"{body}\n</details>"
            )
        return body + edited

    def _prepare_actions(self):
        member, thread = self.member, self.thread
        self.rules = permissions.PostRules(member)
        self.may_reply = permissions.can_reply(member, thread)
        self.may_write = can_write(member)
        self.is_staff = is_staff(member)
        self.urls = {
            name: url_filler(view, thread.pk, NUMBER)
            for name, view in [
                ("reply", "forums:reply-create"), ("edit", "forums:post-edit"),
                ("delete", "forums:post-delete"), ("recommend", "forums:post-recommend"),
                ("alert", "moderation:alert-create"), ("hide", "moderation:post-hide"),
            ]
        }
        self.ignore_url = url_filler("forums:member-ignore", NAME)
        # One filler for every thread's (reversing took 0.07 ms of each thread page).
        self.trash_url = url_filler("forums:thread-trash", NUMBER)(thread.pk)
        # What the actions depend on besides the post and how the reader stands to it
        # (_kept_actions): the thread, where URLs are made, the language, and what the
        # reader may do anywhere in it.
        self.actions_kind = (
            thread.pk, get_script_prefix(), get_urlconf(), translation.get_language(), self.may_reply,
            self.may_write, self.is_staff, self.trashed,
        )

    def _button(self, url, name, value, label) -> str:
        return f'<button form="{ACTION_FORM}" formaction="{url}" name="{name}" value="{value}">{label}</button>'

    def _kept_actions(self, post) -> str:
        """_actions(post), kept by the process under everything it depends on: the same
        post read by the same kind of reader (most members, to most posts: not theirs,
        not recommended, not ignored) has the same actions. Building them was a tenth
        of a page of 50 posts."""
        author, rules = post.author, self.rules
        facts = (
            self.actions_kind, post.pk, post.number, post.author_id != self.member.pk, post.is_deleted,
            post.is_hidden, post.is_opening_post, post.pk in self.my_recommendations,
            post.author_id in self.ignored_ids, author.deleted_at is None, author.username, author.public_name,
            rules.can_edit(post), rules.can_delete(post),
        )
        return _ACTIONS.get(facts, lambda: self._actions(post))

    def _actions(self, post) -> str:
        """The reader's actions on a post: only those the services would accept from
        them (forums.permissions and accounts.standing decide). The everyday ones stay
        in one row; the rarely used and drastic ones (delete, alert, staff's edit and
        hide, ignore, trash) wait behind "More", a <details> that opens without JavaScript, so that
        a stray tap on a phone cannot ignore a member or trash a thread."""
        member, words, urls, number = self.member, self.words, self.urls, post.number
        items, more = [], []
        others = post.author_id != member.pk
        if not post.is_deleted and self.may_reply:
            reply = urls["reply"](number)
            items.append(f'<a href="{reply}">{words["reply"]}</a>')
            items.append(f'<a href="{reply}?quote=1">{words["quote"]}</a>')
        if self.rules.can_edit(post):
            # Staff editing someone else's post is the rare case.
            (more if others else items).append(f'<a href="{urls["edit"](number)}">{words["edit"]}</a>')
        if others and not post.is_deleted and self.may_write:
            recommended = post.pk in self.my_recommendations
            items.append(self._button(
                urls["recommend"](number), "recommend", "0" if recommended else "1",
                words["unrecommend" if recommended else "recommend"],
            ))
        if self.rules.can_delete(post):
            more.append(f'<a href="{urls["delete"](number)}">{words["delete"]}</a>')
        if others and not post.is_deleted and not post.is_hidden and self.may_write:
            more.append(f'<a href="{urls["alert"](number)}">{words["alert"]}</a>')
        if self.is_staff:
            hidden = post.is_hidden
            more.append(self._button(
                urls["hide"](number), "hide", "0" if hidden else "1", words["unhide" if hidden else "hide"]
            ))
        if others and not post.is_deleted and not post.author.deleted_at:
            ignoring = post.author_id in self.ignored_ids
            label = self.ignore_words[ignoring] % {"name": post.author.public_name}
            more.append(self._button(self.ignore_url(post.author.username), "ignore", "0" if ignoring else "1",
                                     escape(label)))
        # A trashed thread offers "Restore thread" in the thread tools instead.
        if post.is_opening_post and not self.trashed:
            more.append(self._button(self.trash_url, "trash", "1", words["trash"]))
        # The menu's items are the <details>' own children, without a list of their
        # own: a page of fifty posts would otherwise grow by some 2 KB.
        parts = [f"<li>{item}</li>" for item in items]
        if more:
            parts.append(f'<li><details><summary>{words["more"]}</summary>{"".join(more)}</details></li>')
        return f'<ul class="post-actions" aria-label="{words["actions"]}">{"".join(parts)}</ul>'

    def _article(self, post, shared, marker) -> SafeString:
        before, after, body, edited, count = shared
        new = self._is_new(post)
        classes = "post"
        if post.is_opening_post:
            classes += " post-opening"
        if post.is_deleted:
            classes += " is-deleted"
        if new:
            classes += " is-new"
        parts = [f'<article class="{classes}" id="post-{post.number}">', before]
        if new:
            parts.append(marker)
        parts += [after, self._body(post, body, edited), count]
        if post.is_opening_post and self.recommenders:
            links = MemberLinks()
            names = ", ".join(links.link(links.author_of(row, prefix="member")) for row in self.recommenders)
            parts.append(_partial("recommenders", {"names": mark_safe(names)}))
        if self.actions:
            parts.append(self._kept_actions(post))
        elif self.visitor_reply and not post.is_deleted:
            parts.append(
                f'<ul class="post-actions" aria-label="{self.words["actions"]}"><li>'
                f'<a href="{self.reply_url(post.number)}">{self.words["reply"]}</a></li></ul>'
            )
        parts.append("</article>")
        return SafeString("".join(parts))

    def articles(self, posts) -> list[SafeString]:
        """Each post's <article>, in the order given: rows of
        PostQuerySet.for_thread_page, or posts with their authors."""
        posts = [PostFacts.of(post) for post in posts]
        shared = self._shared(posts)
        marker = _new_marker_in(self.template_digest, self.language) if self.new_after else ""
        return [self._article(post, shared[post.pk], marker) for post in posts]

    def article(self, post) -> SafeString:
        return self.articles([post])[0]


def reply_items(posts, articles, *, flat: bool, highlight_after=None) -> SafeString:
    """The items of "View all"'s list of replies: each reply's article, indented by its
    depth in the tree (up to 8) unless the reader reads flat, and highlighted when it
    is among the newest."""
    items = []
    for post, article in zip(posts, articles, strict=True):
        depth = 1 if flat else min(post.depth, 8)
        highlighted = " is-highlighted" if highlight_after is not None and post.number > highlight_after else ""
        items.append(f'<li class="reply depth-{depth}{highlighted}">{article}</li>\n')
    return mark_safe("".join(items))


class IndexLine(NamedTuple):
    """A line of the reply index as every reader sees it, with where its parts start in
    the index's markup (reply_index_lines); reply_index adds the reader's own there."""

    number: int
    created_at: datetime
    author_id: int
    author_name: str  # the author's public name, for "You are ignoring ..."
    opens: int  # where its <li> starts (after any list markup before it)
    link: int  # where the subject linked to its place in "View all" starts
    byline: int  # where its author, day and number start


def reply_index_lines(items, tail, *, view_all_url) -> tuple[list[IndexLine], str]:
    """The lines of "Original post only"'s reply index (forums.tree.nest's items of rows
    of PostQuerySet.for_reply_index, each with the page of "View all" it is on) and
    their markup, with the markup that closes the lists still open after the last: the
    part of the index every reader sees alike, which a thread view may keep
    (reply_index_key)."""
    links, dates = MemberLinks(), LocalDates("DATE_FORMAT")
    view_all_url = escape(view_all_url)
    deleted, hidden = escape(_("[deleted]")), escape(_("[hidden]"))
    lines, parts, length = [], [], 0
    for item in items:
        post = item.post
        if item.opens_list:
            before = "<ul>"
        elif item.closes_item:
            before = "</li>" + "</ul></li>" * len(item.closed_lists)
        else:
            before = ""
        author = links.author_of(post)
        page = f"?page={item.page}" if item.page > 1 else ""
        subject = deleted if post.is_deleted else hidden if post.is_hidden else escape(post.subject)
        local = dates.local(post.created_at)
        opening = f'<li id="index-{post.number}">'
        link = f'<a href="{view_all_url}{page}#post-{post.number}">{subject}</a>'
        byline = (
            f' <span class="byline">{links.link(author)} <time datetime="{local.isoformat()}">'
            f'{dates.day(post.created_at, local=local)}</time> <span class="post-number">#{post.number}</span></span>\n'
        )
        opens = length + len(before)
        link_at = opens + len(opening)
        byline_at = link_at + len(link)
        length = byline_at + len(byline)
        parts += (before, opening, link, byline)
        lines.append(IndexLine(
            post.number, post.created_at, post.author_id, author.public_name, opens, link_at, byline_at
        ))
    if items:
        parts.append("</li>" + "</ul></li>" * len(tail))
    return lines, "".join(parts)


def reply_index_key(thread_id: int, versions: tuple, *facts) -> str:
    """The cache key of a page of a thread's reply index (reply_index_lines), under the
    versions of what it shows (config.page_cache.versions: the thread's replies, and
    members' names, which are site-wide) and the `facts` that shape it (page, layout,
    the reader's page size)."""
    return _rows_key("reply-index", thread_id, versions, *facts)


def reply_index_page_lines(
    rows: prepared.Unconverted, *, start: int, flat: bool, per_page: int, view_all_url: str
) -> tuple:
    """reply_index_lines() of a page of the index: its rows (PostQuerySet.reply_index_rows,
    which hold what each line shows), nested (forums.tree.nest), each line with its page
    of "View all" from `start` (the place of the first row in the thread) and the
    reader's `per_page`. Kept under all of these and the layout, so that every reader,
    and every page a write did not change, shares them: keyed by the rows as the
    database gave them, which are made into rows only to make the lines."""

    def make():
        index, tail = nest(rows.rows, flat=flat)
        for item in index:
            item.page = (start - 1 + item.position) // per_page + 1
        return reply_index_lines(index, tail, view_all_url=view_all_url)

    return kept_or_made(_rows_key("reply-index-rows", view_all_url, start, flat, per_page, rows.raw), make)


def lists_key(name: str, versions: tuple, *facts) -> str:
    """The cache key of rows that every reader of the lists across forums sees alike
    (forums.views' All Forums and front page), under the versions of what they show
    (config.page_cache.versions) and the `facts` that shape them (their columns)."""
    return _rows_key("lists", name, versions, *facts)


def reply_index(lines, markup, *, highlight_after=None, is_new=None, ignored_ids=frozenset()) -> SafeString:
    """The reply index of "Original post only" (reply_index_lines' lines and markup) for
    one reader: one line per reply (its subject linked to its place in "View all",
    author, day and number), nested as forums.tree.nest says, with the reader's ★ marks
    (where `is_new`, forums.reading.new_reply_rule, says so), highlighting and ignored
    members. Only the lines that carry one of these are written again; the rest of
    the markup is copied as it is (a visitor's index is the markup alone)."""
    if highlight_after is None and is_new is None and not ignored_ids:
        return mark_safe(f'<ul class="reply-tree">{markup}</ul>')
    marker = _new_marker() if is_new else ""
    ignoring = _("You are ignoring %(name)s")
    parts, copied = ['<ul class="reply-tree">'], 0
    for line in lines:
        highlighted = highlight_after is not None and line.number > highlight_after
        new = is_new is not None and is_new(line)
        ignored = line.author_id in ignored_ids
        if not (highlighted or new or ignored):
            continue
        parts.append(markup[copied:line.opens])
        if highlighted:
            parts.append(f'<li id="index-{line.number}" class="is-highlighted">')
        else:
            parts.append(f'<li id="index-{line.number}">')
        if new:
            parts.append(marker)
        if ignored:
            parts.append(f'<span class="muted">{escape(ignoring % {"name": line.author_name})}</span>')
            copied = line.byline
        else:
            copied = line.link
    parts += [markup[copied:], "</ul>"]
    return mark_safe("".join(parts))


# Thread and forum lists: their rows, built here for the reasons above (a page of 30
# threads, or All Forums with a hundred forums, spent most of its time in the template
# language); the tables around them stay in templates/forums/_thread_rows.html and
# _forum_rows.html.


class ThreadRow(namedtuple("ThreadColumns", THREAD_ROW_COLUMNS)):
    """A thread as a list shows it: a row of ThreadQuerySet.rows, taken as it is (copying
    its 22 columns into another object, one by one, took a twentieth of a forum page);
    `is_new` and `new_reply_count` are the reader's, set on the row by
    forums.reading.mark_new_replies."""

    is_new = False
    new_reply_count = 0

    @classmethod
    def list(cls, rows) -> list["ThreadRow"]:
        rows = list(rows)
        if rows and rows[0]._fields != THREAD_ROW_COLUMNS:
            raise ValueError(f"thread rows have the columns {rows[0]._fields}, not THREAD_ROW_COLUMNS")
        new = tuple.__new__
        return [new(cls, row) for row in rows]


def thread_rows(threads, *, user, show_forum=False) -> SafeString:
    """A thread list's rows (ThreadRow): the author's avatar, the title (in the reader's
    preferred view) with its reply count and, for a member, what is new
    (forums.reading.mark_new_replies); the forum when asked; author; last activity and
    last poster; views (forums.view_counts) and recommendations.

    What every reader of a language and time zone sees alike is made once for a page's
    rows and kept (_thread_rows), keyed by everything the rows show, as ForumRows are: a
    reply, a view or a renamed member makes a new key. Added per request: what is new
    to the reader, and "3 hours ago", which changes with the clock. Making the rows
    took a fifth of a forum page (30 rows, 2.5 ms on a slow machine)."""
    threads = list(threads)
    view_all = getattr(user, "is_authenticated", False) and user.thread_view == "all"
    facts = tuple(tuple(thread) for thread in threads)
    key = _rows_key("thread-rows", view_all, show_forum, facts)
    rows = kept_or_made(key, lambda: _thread_rows(threads, view_all=view_all, show_forum=show_forum))
    since, language, parts = RelativeTimes(), translation.get_language(), []
    for thread, (flags, head, middle, tail) in zip(threads, rows, strict=True):
        if thread.is_new or thread.new_reply_count:
            flags = f"{flags} is-unread" if flags else "is-unread"
        parts.append(f'<tr class="{flags}">' if flags else "<tr>")
        parts.append(head)
        if thread.is_new:
            parts.append(f' <span class="badge badge-new">{_new_word(language)}</span>')
        elif thread.new_reply_count:
            parts.append(f' <span class="badge badge-new">{counted(language, "new", thread.new_reply_count)}</span>')
        parts.extend((middle, since(thread.last_activity_at), tail))
    return mark_safe("".join(parts))


@functools.lru_cache(maxsize=64)
def _new_word(_language) -> str:
    return escape(_("New"))


def _thread_rows(threads, *, view_all, show_forum) -> list[tuple[str, str, str, str]]:
    """Each thread's row as every reader sees it, in four parts: its classes (pinned,
    locked); the HTML up to the reply count; from there up to the last activity's
    relative time; and the rest (thread_rows puts the reader's parts between them)."""
    links, dates, counts = MemberLinks(), LocalDates("c"), Counts()
    thread_url = url_filler("forums:thread-all" if view_all else "forums:thread-detail", NUMBER, NAME)
    forum_url = url_filler("forums:forum-detail", NAME)
    words = {
        name: escape(text) for name, text in [
            ("pinned", _("Pinned")), ("locked", _("Locked")), ("by", _("by")),
            ("forum", _("Forum")), ("author", _("Author")), ("last", _("Last reply")),
            # The columns' headings; on phones, the labels of the counts in each row.
            ("views", _("Views")), ("recommendations", _("Recs")),
        ]
    }
    rows, language = [], translation.get_language()
    for thread in threads:
        flags = " ".join(name for name, on in [("is-pinned", thread.is_pinned), ("is-locked", thread.is_locked)] if on)
        head = ['<th scope="row">', links.avatar_of(thread.author_id, thread.author__avatar)]
        if thread.is_pinned:
            head.append(f'<span class="badge badge-pinned">{words["pinned"]}</span> ')
        if thread.is_locked:
            head.append(f'<span class="badge badge-locked">{words["locked"]}</span> ')
        replies = counted(language, "replies", thread.reply_count)
        # The count and the "New" badge stay together when a long title wraps.
        head.append(
            f'<a class="thread-title" href="{thread_url(thread.pk, thread.slug)}">{escape(thread.title)}</a> '
            f'<span class="reply-count">{replies}'
        )
        middle = ["</span></th>"]
        if show_forum:
            middle.append(
                f'<td data-label="{words["forum"]}"><a href="{forum_url(thread.forum__slug)}">'
                f"{escape(thread.forum__name)}</a></td>"
            )
        middle.append(
            f'<td data-label="{words["author"]}">{links.link(links.author_of(thread))}</td>'
            f'<td data-label="{words["last"]}"><time datetime="{dates.iso(thread.last_activity_at)}">'
        )
        tail = ["</time>"]
        if thread.reply_count and thread.last_poster_id:
            last_poster = links.link(links.author_of(thread, prefix="last_poster"))
            tail.append(f' <span class="byline">{words["by"]} {last_poster}</span>')
        tail.append(
            f'</td><td class="num" data-label="{words["views"]}">{counts(thread.view_count)}</td>'
            f'<td class="num" data-label="{words["recommendations"]}">{thread.recommendation_count}</td></tr>\n'
        )
        rows.append((flags, "".join(head), "".join(middle), "".join(tail)))
    return rows


def forum_rows(forums, *, purposes=True) -> SafeString:
    """A forum list's rows (rows of ForumQuerySet.for_listing): name and (unless
    `purposes` is false, as on All Forums, where a hundred forums must fit on few
    screens) purpose, thread and post counts, and the last post with its thread, author
    and time (ForumRows)."""
    forums = list(forums)
    return ForumRows(forums, purposes=purposes)(forums)


class ForumRows:
    """The rows of a page's forums, made once for all the lists it shows them in (All
    Forums' sections); calling it with some of them gives their rows.

    The rows are the same for every reader of a language and time zone, so they are
    cached, keyed by everything they show (or, `named_by`, by the versions the rows were
    kept under): a new post or a renamed forum makes a new key. Only "3 hours ago" is
    added per request: it changes with the clock."""

    # Handed to templates (the {% forum_rows %} tag calls it).
    do_not_call_in_templates = True

    def __init__(self, forums, *, purposes=True, named_by=None):
        forums = list(forums)
        if named_by is not None:
            # Rows kept under versions that every change to them bumps (forums.views'
            # lists): those versions and the forums' ids name them, for a fraction of the
            # time that the repr of All Forums' 115 rows took.
            facts = (named_by, tuple(forum.pk for forum in forums))
        else:
            # Plain tuples: a named tuple's repr took as long as the rest of the key.
            facts = tuple(tuple(forum) for forum in forums)
        key = _rows_key("forum-rows", purposes, facts)
        rows = kept_or_made(
            key, lambda: dict(zip((forum.pk for forum in forums), _forum_rows(forums, purposes), strict=True))
        )
        self._rows, self._since = rows, RelativeTimes()

    def __call__(self, forums) -> SafeString:
        since = self._since
        return mark_safe("".join(
            head if moment is None else f"{head}{since(moment)}{tail}"
            for head, moment, tail in (self._rows[forum.pk] for forum in forums)
        ))


def forum_table_head() -> str:
    """The head of a forum list's table, the same on every page in a language: All
    Forums shows seven tables, whose headings took a sixth of its rendering."""
    return _forum_table_head(translation.get_language())


@functools.lru_cache(maxsize=64)
def _forum_table_head(_language) -> SafeString:
    forum, threads, posts, last = (escape(word) for word in (_("Forum"), _("Threads"), _("Posts"), _("Last post")))
    return mark_safe(
        f'<thead>\n    <tr>\n      <th scope="col">{forum}</th>\n      <th scope="col" class="num">{threads}</th>\n'
        f'      <th scope="col" class="num">{posts}</th>\n      <th scope="col">{last}</th>\n    </tr>\n  </thead>'
    )


def forum_sections(sections, made_rows: ForumRows) -> SafeString:
    """All Forums' sections, each a <details> (open where asked) headed by its name and
    how many forums it has, around a compact table of its forums' rows (`made_rows`):
    `sections` are (anchor, name, forums, open). Made here rather than by a template
    partial for each section: their template nodes were a third of the page."""
    language, head = translation.get_language(), forum_table_head()
    parts = []
    for anchor, name, forums, is_open in sections:
        anchor = escape(anchor)
        parts.append(
            f'<details class="forum-section"{" open" if is_open else ""}>\n'
            f'  <summary><h2 id="{anchor}-title">{escape(name)}</h2> '
            f'<span class="muted">{counted(language, "forums", len(forums))}</span></summary>\n'
            f'  <div id="{anchor}" class="forum-section__rows" role="region" aria-labelledby="{anchor}-title">\n'
            f'    <table class="forum-list is-compact">\n  {head}\n  <tbody>\n    {made_rows(forums)}\n  </tbody>\n'
            "</table>\n  </div>\n</details>\n"
        )
    return mark_safe("".join(parts))


def _rows_key(kind, *facts) -> str:
    """A cache key for rows made from `facts` (hashable) for this reader's language, time
    zone and site address, by this release's code (the digest of this file: cached rows
    are shared by every app server, and a changed row outlives a restart).

    Each process keeps the keys it worked out under what they digest: the repr of a
    forum page's 30 rows was a third of making their rows, and every member reading
    the page asks for the same key. A page's rows, kept with its key, hold some 28 KB,
    so a process keeps the keys of 64 pages (every view makes a page's rows new)."""
    reader = (translation.get_language(), timezone.get_current_timezone_name(), get_script_prefix())
    return _ROWS_KEYS.get((kind, reader, facts), lambda: _digested(kind, reader, facts))


def _digested(kind, reader, facts) -> str:
    digest = hashlib.blake2b(repr((reader, facts)).encode(), digest_size=16).hexdigest()
    return f"{kind}:{_CODE_DIGEST}:{digest}"


_ROWS_KEYS = Made(64)


_CODE_DIGEST = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()


def _forum_rows(forums, purposes) -> list[tuple[str, datetime | None, str]]:
    """Each forum's row, as its HTML before the last post's relative time, that time,
    and the HTML after it (no time, and nothing after, for a forum without posts)."""
    links, dates, counts = MemberLinks(), LocalDates("c"), Counts()
    forum_url = url_filler("forums:forum-detail", NAME)
    thread_url = url_filler("forums:thread-detail", NUMBER, NAME)
    reply_url = url_filler("forums:post-jump", NUMBER, NUMBER)
    words = {
        name: escape(text) for name, text in [
            ("threads", _("Threads")), ("posts", _("Posts")), ("by", _("by")), ("none", _("No posts yet")),
        ]
    }
    rows = []
    for forum in forums:
        row = [f'<tr><th scope="row"><a class="forum-name" href="{forum_url(forum.slug)}">{escape(forum.name)}</a>']
        if purposes and forum.purpose:
            row.append(f'<p class="forum-purpose">{_purpose_excerpt(forum.purpose)}</p>')
        row.append(
            f'</th><td class="num" data-label="{words["threads"]}">{counts(forum.thread_count)}</td>'
            f'<td class="num" data-label="{words["posts"]}">{counts(forum.post_count)}</td><td class="last-post">'
        )
        if not forum.last_post_id:
            row.append(f'<span class="muted">{words["none"]}</span></td></tr>\n')
            rows.append(("".join(row), None, ""))
            continue
        if forum.last_post__parent_id is None:
            url = thread_url(forum.last_post__thread_id, forum.last_post__thread__slug)
        else:
            url = reply_url(forum.last_post__thread_id, forum.last_post__number)
        author = links.author_of(forum, prefix="last_post__author")
        row.append(
            f'<a href="{url}">{escape(truncatechars(forum.last_post__thread__title, 60))}</a> '
            f'<span class="byline">{words["by"]} {links.link(author)}, '
            f'<time datetime="{dates.iso(forum.last_post_at)}">'
        )
        rows.append(("".join(row), forum.last_post_at, "</time></span></td></tr>\n"))
    return rows


def recent_posts(posts, *, recommendations=False) -> SafeString:
    """The items of a list of one member's posts (rows of PostQuerySet.for_profile):
    thread or reply, subject linked to the post, forum and time, and with
    `recommendations` how many the post has."""
    thread_url = url_filler("forums:thread-detail", NUMBER, NAME)
    reply_url = url_filler("forums:post-jump", NUMBER, NUMBER)
    forum_url = url_filler("forums:forum-detail", NAME)
    dates, since = LocalDates("c"), RelativeTimes()
    kinds = {True: escape(_("Thread")), False: escape(_("Reply"))}
    language = translation.get_language()
    where = escape(_("in"))
    items = []
    for post in posts:
        opening = post.parent_id is None
        url = thread_url(post.thread_id, post.thread__slug) if opening else reply_url(post.thread_id, post.number)
        item = (
            f'<li><span class="badge">{kinds[opening]}</span> <a href="{url}">{escape(post.subject)}</a> '
            f'<span class="byline">{where} <a href="{forum_url(post.thread__forum__slug)}">'
            f"{escape(post.thread__forum__name)}</a>, <time datetime=\"{dates.iso(post.created_at)}\">"
            f"{since(post.created_at)}</time>"
        )
        if recommendations and post.recommendation_count:
            item += ", " + counted(language, "recommendations", post.recommendation_count)
        items.append(item + "</span></li>\n")
    return mark_safe("".join(items))
