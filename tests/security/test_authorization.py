"""Authorisation: every URL that changes something, and the staff pages, against every
role (issue 10, part 2).

TABLE has one row per action: the URL, how to fill it in, what to send, and the status
each role gets. Every cell is a test of its own ("reply-visitor", "reply-member", ...).
A refused cell must also leave every row of the forum's tables as it was; an allowed
cell must make its change. Rows on other members' posts, conversations, juries and
verdicts are the insecure direct object references: the id is in the URL, and only
the owner (and, where the product says so, staff) gets through.

test_every_url_is_in_the_table walks the URL resolver, so a new URL must be placed
either in TABLE or, if it only reads, in READ_ONLY_PAGES.
"""

from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.forms.models import model_to_dict
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.forms import SettingsForm
from accounts.models import RedeemCode
from conversations.models import Conversation, Message
from forums.models import (
    ForumBlock,
    ForumRead,
    ForumSubscription,
    IgnoredMember,
    Notification,
    Picture,
    Poll,
    PollOption,
    PollVote,
    Post,
    Recommendation,
    Thread,
    ThreadSubscription,
    TrashedForum,
    TrashedThread,
)
from moderation.models import Alert, Appeal, JurySeat

from tests.pictures import upload
from tests.world import HIDDEN_FIRST_VERSION, HIDDEN_TEXT, PASSWORD, PRIVATE_TEXT, ROLES

from .conftest import db_state, state_diff

LOGIN = "login"  # a redirect to the login page (the site's, or the admin's for /admin/)
REFUSED = {LOGIN, 400, 403, 404, 405}


def cells(default, **overrides) -> dict:
    """Expected status per role: `default` for every role not named."""
    unknown = set(overrides) - set(ROLES)
    assert not unknown, unknown
    return {role: overrides.get(role, default) for role in ROLES}


# The usual ladders.
ANY_MEMBER = cells(302, visitor=LOGIN)
WRITER = cells(302, visitor=LOGIN, suspended=403)
POSTER_IN_FORUM = cells(302, visitor=LOGIN, suspended=403, blocked=403)
AUTHOR_OR_STAFF = cells(403, visitor=LOGIN, member=302, staff=302, superuser=302)
HOST_OR_STAFF = cells(403, visitor=LOGIN, host=302, staff=302, superuser=302)
STAFF_ONLY = cells(403, visitor=LOGIN, staff=302, superuser=302)
ADMIN_PAGE = cells(LOGIN, staff=200, superuser=200)
ADMIN_SUPERUSER_PAGE = cells(LOGIN, staff=403, superuser=200)


@dataclass(frozen=True)
class Row:
    id: str
    url_name: str
    kwargs: Callable  # world -> URL kwargs
    expected: dict  # role -> status, or LOGIN
    method: str = "post"
    data: Callable = field(default=lambda w, user: {})  # (world, user) -> POST data or query
    # For allowed cells: (world, user) -> whether the change is there. False before the
    # request, True after.
    changed: Callable | None = None

    def url(self, w) -> str:
        return reverse(self.url_name, kwargs=self.kwargs(w))


def _post(post):
    return lambda w: {"pk": post(w).thread_id, "number": post(w).number}


def _thread(thread):
    return lambda w: {"pk": thread(w).pk}


def _settings_data(user, **changes):
    data = model_to_dict(user, fields=SettingsForm.Meta.fields)
    data = {key: value for key, value in data.items() if value is not None}
    for flag in ("jury_available", "email_notifications"):
        if not data.pop(flag):
            continue
        data[flag] = "on"
    return {**data, "jury_blacklist": "", **changes}


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def _unread(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def _own_post_reply(w):
    return w.member_reply


def _first_option(thread):
    return PollOption.objects.filter(poll=thread.pk).order_by("position").first().pk


def _voted(thread, user):
    return PollVote.objects.filter(poll=thread.pk, member=user).exists()


NEW_POLL = {"poll-question": "Tea or coffee?", "poll-options": "Tea\nCoffee", "poll-max_choices": "1",
            "poll-results_shown": "voted"}


TABLE = [
    # Posting.
    Row("thread-create", "forums:thread-create", lambda w: {"slug": w.forum.slug}, POSTER_IN_FORUM,
        data=lambda w, u: {"title": "A brand new thread", "body": "Its opening post."},
        changed=lambda w, u: Thread.objects.filter(author=u, title="A brand new thread").exists()),
    # With FORUMS_POLLS_FOR = "members" (the default) anyone who may post starts polls.
    Row("thread-create-with-poll", "forums:thread-create", lambda w: {"slug": w.forum.slug}, POSTER_IN_FORUM,
        data=lambda w, u: {"title": "A thread with a poll", "body": "Vote.", **NEW_POLL},
        changed=lambda w, u: Poll.objects.filter(thread__author=u, question="Tea or coffee?").exists()),
    Row("reply", "forums:reply-create", _post(lambda w: w.opening_post), POSTER_IN_FORUM,
        data=lambda w, u: {"subject": "", "body": "A reply of mine."},
        changed=lambda w, u: Post.objects.filter(author=u, body="A reply of mine.").exists()),
    Row("reply-to-reply", "forums:reply-create", _post(lambda w: w.other_reply), POSTER_IN_FORUM,
        data=lambda w, u: {"subject": "Re", "body": "Answering ann."},
        changed=lambda w, u: Post.objects.filter(author=u, parent=w.other_reply).exists()),
    Row("reply-locked-thread", "forums:reply-create",
        lambda w: {"pk": w.locked_thread.pk, "number": 0}, cells(403, visitor=LOGIN),
        data=lambda w, u: {"subject": "", "body": "Let me in."}),
    # Another member's post by id: only its author (and staff) may edit or delete it.
    Row("post-edit", "forums:post-edit", _post(_own_post_reply), AUTHOR_OR_STAFF,
        data=lambda w, u: {"subject": "Changed", "body": "Rewritten by someone."},
        changed=lambda w, u: _fresh(w.member_reply).body == "Rewritten by someone."),
    Row("post-edit-opening", "forums:post-edit", _post(lambda w: w.opening_post), AUTHOR_OR_STAFF,
        data=lambda w, u: {"subject": "Retitled", "body": "Rewritten."},
        changed=lambda w, u: _fresh(w.thread).title == "Retitled"),
    Row("post-edit-others", "forums:post-edit", _post(lambda w: w.other_reply),
        cells(403, visitor=LOGIN, staff=302, superuser=302),
        data=lambda w, u: {"subject": "Changed", "body": "Not ann's words."},
        changed=lambda w, u: _fresh(w.other_reply).body == "Not ann's words."),
    Row("post-delete", "forums:post-delete", _post(_own_post_reply), AUTHOR_OR_STAFF,
        changed=lambda w, u: _fresh(w.member_reply).is_deleted),
    Row("post-delete-others", "forums:post-delete", _post(lambda w: w.other_reply),
        cells(403, visitor=LOGIN, staff=302, superuser=302),
        changed=lambda w, u: _fresh(w.other_reply).is_deleted),
    Row("recommend", "forums:post-recommend", _post(lambda w: w.other_reply), WRITER,
        data=lambda w, u: {"recommend": "1"},
        changed=lambda w, u: Recommendation.objects.filter(member=u, post=w.other_reply).exists()),
    # Polls: members in good standing vote (blocks are about posting, not voting).
    Row("poll-vote-page", "forums:poll-vote", _thread(lambda w: w.poll_thread), cells(200, visitor=LOGIN),
        method="get"),
    Row("poll-vote", "forums:poll-vote", _thread(lambda w: w.poll_thread), WRITER,
        data=lambda w, u: {"option": _first_option(w.poll_thread)},
        changed=lambda w, u: _voted(w.poll_thread, u)),
    Row("poll-vote-other-polls-option", "forums:poll-vote", _thread(lambda w: w.poll_thread),
        cells(400, visitor=LOGIN), data=lambda w, u: {"option": _first_option(w.closed_poll_thread)}),
    Row("poll-vote-closed", "forums:poll-vote", _thread(lambda w: w.closed_poll_thread),
        cells(400, visitor=LOGIN, suspended=403),
        data=lambda w, u: {"option": _first_option(w.closed_poll_thread)}),
    # Reading what is hidden, by id: the earlier versions of a post hidden by staff.
    Row("post-history-hidden", "forums:post-history", _post(lambda w: w.hidden_post),
        cells(404, staff=200, superuser=200), method="get"),
    # Following, trashing, ignoring, marking read: a member's own lists.
    Row("thread-follow", "forums:thread-follow", _thread(lambda w: w.other_thread), ANY_MEMBER,
        data=lambda w, u: {"follow": "1"},
        changed=lambda w, u: ThreadSubscription.objects.filter(member=u, thread=w.other_thread).exists()),
    Row("forum-follow", "forums:forum-follow", lambda w: {"slug": w.other_forum.slug}, ANY_MEMBER,
        data=lambda w, u: {"follow": "1"},
        changed=lambda w, u: ForumSubscription.objects.filter(member=u, forum=w.other_forum).exists()),
    Row("thread-trash", "forums:thread-trash", _thread(lambda w: w.other_thread), ANY_MEMBER,
        data=lambda w, u: {"trash": "1"},
        changed=lambda w, u: TrashedThread.objects.filter(member=u, thread=w.other_thread).exists()),
    Row("forum-trash", "forums:forum-trash", lambda w: {"slug": w.other_forum.slug}, ANY_MEMBER,
        data=lambda w, u: {"trash": "1"},
        changed=lambda w, u: TrashedForum.objects.filter(member=u, forum=w.other_forum).exists()),
    Row("ignore", "forums:member-ignore", lambda w: {"username": w.ann.username}, ANY_MEMBER,
        data=lambda w, u: {"ignore": "1"},
        changed=lambda w, u: IgnoredMember.objects.filter(member=u, ignored=w.ann).exists()),
    Row("forum-mark-read", "forums:forum-mark-read", lambda w: {"slug": w.forum.slug}, ANY_MEMBER,
        changed=lambda w, u: ForumRead.objects.filter(member=u, forum=w.forum).exists()),
    Row("all-forums-mark-read", "forums:all-forums-mark-read", lambda w: {}, ANY_MEMBER,
        changed=lambda w, u: _fresh(u).all_read_at is not None),
    Row("notifications-mark-read", "forums:notification-list", lambda w: {}, ANY_MEMBER,
        changed=lambda w, u: _unread(u) == 0 and _fresh(u).unread_notification_count == 0),
    # Settings and Star: only ever the logged-in member's own.
    Row("settings-preferences", "members:settings", lambda w: {}, ANY_MEMBER,
        data=lambda w, u: _settings_data(u, theme="dark") if u else {"theme": "dark"},
        changed=lambda w, u: _fresh(u).theme == "dark"),
    Row("settings-profile", "members:settings", lambda w: {}, WRITER,
        data=lambda w, u: _settings_data(u, slogan="Changed my slogan") if u else {"slogan": "x"},
        changed=lambda w, u: _fresh(u).slogan == "Changed my slogan"),
    Row("star-redeem", "accounts:star", lambda w: {}, cells(302, visitor=LOGIN, suspended=400),
        data=lambda w, u: {"code": w.star_code},
        changed=lambda w, u: RedeemCode.objects.filter(code=w.star_code, redeemed_by=u).exists()),
    Row("account-delete-page", "members:member-delete", lambda w: {}, cells(200, visitor=LOGIN),
        method="get"),
    Row("account-delete-wrong-password", "members:member-delete", lambda w: {},
        cells(400, visitor=LOGIN), data=lambda w, u: {"password": "not my password"}),
    # Leaving is always allowed, suspended or not; the account is only ever one's own.
    Row("account-delete", "members:member-delete", lambda w: {}, ANY_MEMBER,
        data=lambda w, u: {"password": PASSWORD},
        changed=lambda w, u: not _fresh(u).is_active),
    Row("my-data", "members:member-data", lambda w: {}, cells(200, visitor=LOGIN), method="get"),
    # Alerts and juries.
    Row("alert", "moderation:alert-create", _post(lambda w: w.other_reply), WRITER,
        data=lambda w, u: {"rule": w.rule.pk, "comment": "Rude"},
        changed=lambda w, u: Alert.objects.filter(alerter=u, post=w.other_reply).exists()),
    Row("alert-own-post", "moderation:alert-create", _post(_own_post_reply),
        cells(302, visitor=LOGIN, member=403, suspended=403),
        data=lambda w, u: {"rule": w.rule.pk, "comment": ""},
        changed=lambda w, u: Alert.objects.filter(alerter=u, post=w.member_reply).exists()),
    # The juror's page of a jury one does not sit on does not exist, for staff too.
    Row("jury-page", "moderation:jury-detail", lambda w: {"pk": w.jury.pk},
        cells(404, visitor=LOGIN, member=200), method="get"),
    Row("jury-vote", "moderation:jury-detail", lambda w: {"pk": w.jury.pk},
        cells(404, visitor=LOGIN, member=302),
        data=lambda w, u: {"answer": JurySeat.Answer.CLEAR_KEEP, "comment": "Fine by me"},
        changed=lambda w, u: JurySeat.objects.filter(jury=w.jury, juror=u).exclude(answer="").exists()),
    # A verdict is for the poster, the alerter and staff; only the poster appeals.
    Row("jury-result", "moderation:jury-result", lambda w: {"pk": w.closed_jury.pk},
        cells(404, visitor=LOGIN, member=200, staff=200, superuser=200), method="get"),
    Row("jury-appeal", "moderation:jury-result", lambda w: {"pk": w.closed_jury.pk},
        cells(404, visitor=LOGIN, member=302, staff=403, superuser=403),
        data=lambda w, u: {"text": "It was a joke."},
        changed=lambda w, u: Appeal.objects.filter(jury=w.closed_jury).exists()),
    Row("post-verdict", "moderation:post-verdict", _post(lambda w: w.verdict_post),
        cells(404, visitor=LOGIN, member=302, staff=302, superuser=302), method="get"),
    # Hosts of this forum and staff.
    Row("thread-lock", "moderation:thread-lock", _thread(lambda w: w.thread), HOST_OR_STAFF,
        data=lambda w, u: {"lock": "1", "reason": "Flame war"},
        changed=lambda w, u: _fresh(w.thread).is_locked),
    Row("thread-unlock", "moderation:thread-lock", _thread(lambda w: w.locked_thread), HOST_OR_STAFF,
        data=lambda w, u: {"lock": "0"},
        changed=lambda w, u: not _fresh(w.locked_thread).is_locked),
    Row("thread-pin", "moderation:thread-pin", _thread(lambda w: w.thread), HOST_OR_STAFF,
        data=lambda w, u: {"pin": "1"},
        changed=lambda w, u: _fresh(w.thread).is_pinned),
    Row("poll-close", "moderation:poll-close", _thread(lambda w: w.poll_thread), HOST_OR_STAFF,
        changed=lambda w, u: Poll.objects.get(pk=w.poll_thread.pk).closed_at is not None),
    Row("thread-move-page", "moderation:thread-move", _thread(lambda w: w.thread),
        cells(403, visitor=LOGIN, host=200, staff=200, superuser=200), method="get"),
    Row("thread-move", "moderation:thread-move", _thread(lambda w: w.thread), HOST_OR_STAFF,
        data=lambda w, u: {"forum": w.hosted_forum.pk, "reason": "Belongs there"},
        changed=lambda w, u: _fresh(w.thread).forum_id == w.hosted_forum.pk),
    # A host moves only between forums they host.
    Row("thread-move-unhosted", "moderation:thread-move", _thread(lambda w: w.thread),
        cells(403, visitor=LOGIN, host=400, staff=302, superuser=302),
        data=lambda w, u: {"forum": w.other_forum.pk, "reason": ""},
        changed=lambda w, u: _fresh(w.thread).forum_id == w.other_forum.pk),
    Row("forum-hosting-page", "moderation:forum-hosting", lambda w: {"slug": w.forum.slug},
        cells(403, visitor=LOGIN, host=200, staff=200, superuser=200), method="get"),
    Row("forum-block", "moderation:forum-hosting", lambda w: {"slug": w.forum.slug}, HOST_OR_STAFF,
        data=lambda w, u: {"username": w.al.username, "action": "block", "reason": "Spam"},
        changed=lambda w, u: ForumBlock.objects.filter(forum=w.forum, member=w.al).exists()),
    Row("forum-unblock", "moderation:forum-hosting", lambda w: {"slug": w.forum.slug}, HOST_OR_STAFF,
        data=lambda w, u: {"username": w.user("blocked").username, "action": "unblock", "reason": ""},
        changed=lambda w, u: not ForumBlock.objects.filter(forum=w.forum, member=w.user("blocked")).exists()),
    Row("forum-add-host", "moderation:forum-hosting", lambda w: {"slug": w.forum.slug}, HOST_OR_STAFF,
        data=lambda w, u: {"username": w.al.username, "action": "add_host", "reason": ""},
        changed=lambda w, u: w.forum.hosts.filter(pk=w.al.pk).exists()),
    # Staff only.
    Row("post-hide", "moderation:post-hide", _post(lambda w: w.other_reply), STAFF_ONLY,
        data=lambda w, u: {"hide": "1", "reason": "Rude"},
        changed=lambda w, u: _fresh(w.other_reply).is_hidden),
    Row("post-unhide", "moderation:post-hide", _post(lambda w: w.hidden_post), STAFF_ONLY,
        data=lambda w, u: {"hide": "0"},
        changed=lambda w, u: not _fresh(w.hidden_post).is_hidden),
    # Private messages: a conversation exists only for its participants.
    Row("message-new", "conversations:conversation-create", lambda w: {}, WRITER,
        data=lambda w, u: {"recipient": w.ann.username, "subject": "Hi", "body": "Hello ann."},
        changed=lambda w, u: Conversation.objects.filter(started_by=u).exists()),
    Row("message-read", "conversations:conversation-detail", lambda w: {"pk": w.conversation.pk},
        cells(404, visitor=LOGIN, member=200), method="get"),
    Row("message-reply", "conversations:conversation-detail", lambda w: {"pk": w.conversation.pk},
        cells(404, visitor=LOGIN, member=302),
        data=lambda w, u: {"body": "Answering in private."},
        changed=lambda w, u: Message.objects.filter(conversation=w.conversation, author=u).exists()),
    # Pictures: sent with a post or message (multipart), and served by id only to whoever
    # may see what shows them.
    Row("reply-with-picture", "forums:reply-create", _post(lambda w: w.opening_post), POSTER_IN_FORUM,
        data=lambda w, u: {"subject": "", "body": "Mine: ![My dog](dog.png)", "pictures": upload("dog.png")},
        changed=lambda w, u: Picture.objects.filter(owner=u, name="dog.png", post__isnull=False).exists()),
    Row("message-with-picture", "conversations:conversation-detail", lambda w: {"pk": w.conversation.pk},
        cells(404, visitor=LOGIN, member=302),
        data=lambda w, u: {"body": "Look ![My plan](plan.png)", "pictures": upload("plan.png")},
        changed=lambda w, u: Picture.objects.filter(owner=u, name="plan.png", messages__isnull=False).exists()),
    Row("picture-of-post", "pictures:picture", lambda w: {"pk": w.post_picture.pk}, cells(200), method="get"),
    Row("picture-thumbnail", "pictures:picture-thumbnail", lambda w: {"pk": w.post_picture.pk},
        cells(200), method="get"),
    Row("picture-of-hidden-post", "pictures:picture", lambda w: {"pk": w.hidden_picture.pk},
        cells(404, staff=200, superuser=200), method="get"),
    Row("picture-not-placed", "pictures:picture-thumbnail", lambda w: {"pk": w.pending_picture.pk},
        cells(404, staff=200, superuser=200), method="get"),
    # A private message's picture is private: staff who take no part do not see it either.
    Row("picture-of-message", "pictures:picture", lambda w: {"pk": w.message_picture.pk},
        cells(404, member=200), method="get"),
    Row("picture-post-refused", "pictures:picture", lambda w: {"pk": w.post_picture.pk}, cells(405),
        data=lambda w, u: {"anything": "1"}),
    # Staff pages. Staff without model permissions see the admin index and nothing in it.
    Row("admin-index", "admin:index", lambda w: {}, ADMIN_PAGE, method="get"),
    Row("admin-members", "admin:accounts_user_changelist", lambda w: {}, ADMIN_SUPERUSER_PAGE, method="get"),
    Row("admin-member-change", "admin:accounts_user_change", lambda w: {"object_id": w.ann.pk},
        ADMIN_SUPERUSER_PAGE, method="get"),
    Row("admin-posts", "admin:forums_post_changelist", lambda w: {}, ADMIN_SUPERUSER_PAGE, method="get"),
    Row("admin-conversations", "admin:conversations_conversation_changelist", lambda w: {},
        ADMIN_SUPERUSER_PAGE, method="get"),
    Row("admin-moderation-log", "admin:moderation_moderationaction_changelist", lambda w: {},
        ADMIN_SUPERUSER_PAGE, method="get"),
    Row("admin-code-batch-add", "admin:accounts_codebatch_add", lambda w: {}, ADMIN_SUPERUSER_PAGE,
        method="get"),
    Row("admin-grant-star", "admin:accounts_user_changelist", lambda w: {},
        cells(LOGIN, staff=403, superuser=302),
        data=lambda w, u: {"action": "grant_star_1", ACTION_CHECKBOX_NAME: [w.ann.pk]},
        changed=lambda w, u: _fresh(w.ann).is_star),
    Row("admin-pictures", "admin:forums_picture_changelist", lambda w: {}, ADMIN_SUPERUSER_PAGE, method="get"),
    Row("admin-remove-picture", "admin:forums_picture_changelist", lambda w: {},
        cells(LOGIN, staff=403, superuser=302),
        data=lambda w, u: {"action": "delete_selected", "post": "yes", ACTION_CHECKBOX_NAME: [w.post_picture.pk]},
        changed=lambda w, u: not Picture.objects.filter(pk=w.post_picture.pk).exists()),
    Row("admin-hide-post", "admin:forums_post_changelist", lambda w: {},
        cells(LOGIN, staff=403, superuser=302),
        data=lambda w, u: {"action": "hide", ACTION_CHECKBOX_NAME: [w.other_reply.pk]},
        changed=lambda w, u: _fresh(w.other_reply).is_hidden),
]

# Pages that only read (GET, or a POST that a view ignores), with no object of anyone
# else's to reach by id: public pages, and the member's own lists.
READ_ONLY_PAGES = {
    "healthz",
    "forums:home", "forums:forum-index", "forums:latest", "forums:latest-feed",
    "forums:latest-feed-atom", "forums:search", "forums:greatest", "forums:my-posts",
    "forums:my-subscriptions", "forums:section-detail", "forums:forum-detail",
    "forums:forum-about", "forums:forum-feed", "forums:forum-feed-atom", "forums:thread-short",
    "forums:post-jump", "forums:thread-detail", "forums:thread-all",
    "members:member-detail", "moderation:log", "conversations:inbox", "conversations:sent",
    # Old phpBB links: permanent redirects to the public pages above.
    "phpbb:viewforum", "phpbb:viewtopic", "phpbb:memberlist",
}
# allauth's own views check their own permissions (and are tested upstream); the admin's
# views are covered by the admin rows above; static files are not ours.
FOREIGN_VIEWS = ("allauth.", "django.views.static.")

CELLS = [(row, role) for row in TABLE for role in ROLES]


def _is_login_redirect(response) -> bool:
    if response.status_code != 302:
        return False
    path = urlsplit(response["Location"]).path
    return path in {reverse("account_login"), reverse("admin:login")}


def assert_status(response, expected):
    if expected == LOGIN:
        assert _is_login_redirect(response), (response.status_code, response.get("Location"))
    else:
        assert response.status_code == expected, (
            response.status_code, response.get("Location"), response.content.decode()[:500]
        )
        if expected == 302:
            assert not _is_login_redirect(response), response["Location"]


def request_cell(client, w, row, role):
    user = w.user(role)
    if user is not None:
        client.force_login(user)
    data = row.data(w, user)
    return getattr(client, row.method)(row.url(w), data)


@pytest.mark.parametrize("row, role", CELLS, ids=[f"{row.id}-{role}" for row, role in CELLS])
def test_authorization(client, db, world, row, role):
    expected = row.expected[role]
    user = world.user(role)
    allowed = expected not in REFUSED
    if allowed and row.changed:
        assert not row.changed(world, user), "the change is already there before the request"
    before = db_state()

    response = request_cell(client, world, row, role)

    assert_status(response, expected)
    if allowed:
        if row.changed:
            assert row.changed(world, user)
    else:
        after = db_state()
        assert after == before, state_diff(before, after)


def _url_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.pattern}", pattern.lookup_str


def test_every_url_is_in_the_table():
    """A new URL must get a row in TABLE (or be declared read-only) before it ships."""
    covered = {row.url_name for row in TABLE} | READ_ONLY_PAGES
    missing = sorted(
        name for name, view in _url_names(get_resolver().url_patterns)
        if not name.startswith("admin:") and not view.startswith(FOREIGN_VIEWS) and name not in covered
    )
    assert not missing, f"URLs with no row in the authorisation table: {missing}"


def test_the_table_names_only_real_urls():
    names = {name for name, _view in _url_names(get_resolver().url_patterns)}
    assert not ({row.url_name for row in TABLE} | READ_ONLY_PAGES) - names
    assert len({row.id for row in TABLE}) == len(TABLE)
    # A row that lets someone write must say what the write changes.
    unchecked = [
        row.id for row in TABLE
        if row.method == "post" and not row.changed
        and any(status not in REFUSED for status in row.expected.values())
    ]
    assert not unchecked


# Insecure direct object references beyond the table: what pages show of others' data.


def test_quoting_a_hidden_post_does_not_reveal_its_text(client, db, world):
    client.force_login(world.user("member"))
    url = reverse("forums:reply-create", args=[world.hidden_post.thread_id, world.hidden_post.number])
    page = client.get(url, {"quote": "1"}).content.decode()
    assert HIDDEN_TEXT not in page and HIDDEN_FIRST_VERSION not in page


def test_staff_still_quote_a_hidden_post(client, db, world):
    client.force_login(world.user("staff"))
    url = reverse("forums:reply-create", args=[world.hidden_post.thread_id, world.hidden_post.number])
    assert HIDDEN_TEXT in client.get(url, {"quote": "1"}).content.decode()


def test_edit_history_of_a_hidden_post_is_for_staff_only(client, db, world):
    client.force_login(world.user("staff"))
    page = client.get(reverse("forums:post-history", args=[world.hidden_post.thread_id, world.hidden_post.number]))
    assert HIDDEN_FIRST_VERSION in page.content.decode()


def test_members_see_only_their_own_notifications(client, db, world):
    reply_to_member = Post.objects.filter(parent=world.opening_post, author=world.ann).get()
    assert Notification.objects.filter(recipient=world.user("member"), post=reply_to_member).exists()
    client.force_login(world.user("star"))
    # Stella was mentioned in the same reply; Mia's own notification of it is hers alone.
    mine = Notification.objects.filter(recipient=world.user("star")).count()
    page = client.get(reverse("forums:notification-list"))
    assert page.status_code == 200
    assert len(page.context["page"].object_list) == mine
    assert all(n.recipient_id == world.user("star").pk for n in page.context["page"].object_list)


def test_inbox_lists_only_the_members_own_conversations(client, db, world):
    for role in ("star", "staff", "superuser"):
        client.force_login(world.user(role))
        page = client.get(reverse("conversations:inbox")).content.decode()
        assert "Private plans" not in page and PRIVATE_TEXT not in page
    client.force_login(world.user("member"))
    assert "Private plans" in client.get(reverse("conversations:inbox")).content.decode()


def test_a_conversation_shows_its_text_only_to_participants(client, db, world):
    url = reverse("conversations:conversation-detail", args=[world.conversation.pk])
    client.force_login(world.user("member"))
    assert PRIVATE_TEXT in client.get(url).content.decode()
    client.force_login(world.user("superuser"))
    response = client.get(url)
    assert response.status_code == 404 and PRIVATE_TEXT not in response.content.decode()


def test_my_data_holds_only_my_own_private_messages(client, db, world):
    client.force_login(world.user("star"))
    assert PRIVATE_TEXT not in client.get(reverse("members:member-data")).content.decode()
    client.force_login(world.user("member"))
    assert PRIVATE_TEXT in client.get(reverse("members:member-data")).content.decode()


def test_the_edit_form_of_another_members_post_is_refused(client, db, world):
    client.force_login(world.user("star"))
    url = reverse("forums:post-edit", args=[world.member_reply.thread_id, world.member_reply.number])
    response = client.get(url)
    assert response.status_code == 403 and "Dogs, clearly." not in response.content.decode()


def test_a_suspended_host_cannot_moderate(client, db, world):
    """Suspended members read but do not write; hosting is writing."""
    from accounts.services import member_suspend

    host = member_suspend(member=world.user("host"), reason="Cooling off")
    client.force_login(host)
    before = db_state()
    for url, data in [
        (reverse("moderation:thread-lock", args=[world.thread.pk]), {"lock": "1"}),
        (reverse("moderation:thread-pin", args=[world.thread.pk]), {"pin": "1"}),
        (reverse("moderation:thread-move", args=[world.thread.pk]), {"forum": world.hosted_forum.pk}),
        (reverse("moderation:forum-hosting", args=[world.forum.slug]),
         {"username": world.al.username, "action": "block"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert db_state() == before


def test_a_member_blocked_from_a_forum_cannot_edit_their_posts_there(client, db, world):
    from moderation.services import member_block

    member_block(moderator=world.user("staff"), forum=world.forum, member=world.user("member"), block=True)
    client.force_login(world.user("member"))
    url = reverse("forums:post-edit", args=[world.member_reply.thread_id, world.member_reply.number])
    before = db_state()
    response = client.post(url, {"subject": "x", "body": "Vandalised after the block."})
    assert response.status_code == 403
    assert db_state() == before


def test_admin_pages_refuse_members_even_with_a_guessed_url(client, db, world):
    client.force_login(world.user("member"))
    response = client.get(reverse("admin:conversations_conversation_change", args=[world.conversation.pk]))
    assert _is_login_redirect(response)


def test_a_juror_suspended_after_being_seated_cannot_vote(client, db, world):
    from accounts.services import member_suspend

    juror = member_suspend(member=world.user("member"), reason="Spam")
    client.force_login(juror)
    before = db_state()
    response = client.post(
        reverse("moderation:jury-detail", args=[world.jury.pk]),
        {"answer": JurySeat.Answer.CLEAR_BREAK, "comment": ""},
    )
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("how", ["hidden", "deleted"])
def test_feeds_do_not_carry_the_text_of_a_hidden_or_deleted_opening_post(client, db, world, how):
    from forums.services import post_delete
    from moderation.services import post_hide

    opening = world.other_thread.posts.get(number=0)
    if how == "hidden":
        post_hide(staff=world.user("staff"), post=opening, hide=True)
    else:
        post_delete(member=world.ann, post=opening)
    for url in (reverse("forums:latest-feed"), reverse("forums:latest-feed-atom"),
                reverse("forums:forum-feed", args=[world.forum.slug])):
        feed = client.get(url).content.decode()
        assert "Hamsters" in feed  # the thread is listed
        assert "Small and round." not in feed, url
        assert f"This post was {how}" in feed
