"""Fuzzing: hypothesis sends every form hostile data (any Unicode, control characters,
NUL bytes, huge strings, missing fields, numbers and lists where text belongs, junk
keys) and every page hostile query strings and URL arguments. No answer is a 500, and
a refused write leaves nothing behind: row counts change only on a success redirect,
and the denormalised counters always equal the rows they count.

Each test builds its clients once and runs hypothesis in an inner function, so the
examples share one database savepoint (rolled back when the test ends): invariants
are checked as differences before and after each request, never as absolute counts.
Runs are derandomised, so CI sees the same examples every time.
"""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings, strategies as st

from conversations.models import Conversation, Message, Participant
from forums.models import Poll, PollChoice, PollOption, PollVote, Post, PostRevision, Thread
from moderation.models import Alert, Jury, JurySeat
from tests.invariants import assert_counters_equal_rows

from tests.world import PASSWORD

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=15)
SIGNUP_PASSWORD = "a long and unusual passphrase"

# Text: any Unicode (st.text leaves out lone surrogates, which no browser can send),
# control and format characters, NUL bytes, well-known troublemakers, and huge strings.
_control = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co"]), max_size=20
)
_known = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\r\n", "\u202e\u0645", "\ufeff", "\U0001f4a9" * 5,
    "<script>alert(1)</script>", "'; DROP TABLE forums_post; --", "%00", "%s%n", "{{ 7*7 }}",
    "../../etc/passwd", "javascript:alert(1)", "-1", "0", "1e309", "NaN", "None", "[]",
    str(2**63), str(-(2**63) - 1), "9" * 40, "0x1F", "1.5", "@mia", "mia", "ann",
])
_huge = st.builds(
    lambda chunk, times: chunk * times,
    st.sampled_from(["x", "é", "\U0001f600", "> ", "**", "[a](b)", "\n", "\x00", "<b>"]),
    st.integers(min_value=1_000, max_value=60_000),
)
TEXT = st.one_of(st.text(max_size=200), _control, _known, _huge)
# What a form field may receive: text, a number, or the same key repeated.
VALUE = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.lists(st.one_of(st.text(max_size=20), _known), min_size=2, max_size=3),
)
JUNK_KEYS = st.dictionaries(st.text(min_size=1, max_size=12), VALUE, max_size=2)


def _mostly(good):
    """Plausible five times in six, otherwise hostile."""
    return st.sampled_from([True] * 5 + [False]).flatmap(lambda ok: good if ok else VALUE)


def form(required=None, **fields):
    """Form data: each field plausible, hostile or missing, plus junk keys. Fields in
    `required` are always sent and mostly plausible, so that some examples succeed and
    the success path is fuzzed too."""
    required = {name: _mostly(good) for name, good in (required or {}).items()}
    optional = {name: st.one_of(good, VALUE) for name, good in fields.items()}
    return st.builds(
        lambda data, junk: {**junk, **data},
        st.fixed_dictionaries(required, optional=optional),
        JUNK_KEYS,
    )


def submit():
    """Which button: post, preview, both or neither."""
    return st.sampled_from([{"post": "1"}, {"preview": "1"}, {"post": "1", "preview": "1"}, {}])


# Invariants


def row_counts() -> dict:
    User = get_user_model()
    return {
        "users": User.objects.count(),
        "threads": Thread.objects.count(),
        "posts": Post.objects.count(),
        "revisions": PostRevision.objects.count(),
        "conversations": Conversation.objects.count(),
        "participants": Participant.objects.count(),
        "messages": Message.objects.count(),
        "alerts": Alert.objects.count(),
        "juries": Jury.objects.count(),
        "answers": JurySeat.objects.exclude(answer="").count(),
        "polls": Poll.objects.count(),
        "poll votes": PollVote.objects.count(),
        "poll choices": PollChoice.objects.count(),
    }


def check(response, before: dict, *, what: str) -> None:
    """No server error; rows change only on a success redirect; counters stay exact."""
    assert response.status_code < 500, f"{what}: {response.status_code}"
    after = row_counts()
    if response.status_code != 302:
        assert after == before, f"{what} refused with {response.status_code} but wrote rows"
    assert_counters_equal_rows()


def logged_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def fuzz_world(world, db, settings):
    """The security suites' world, with allauth's limits off (fuzzing is fast, not abuse)."""
    settings.ACCOUNT_RATE_LIMITS = False
    assert_counters_equal_rows()
    return world


# Forms


def test_fuzz_new_thread(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    url = reverse("forums:thread-create", args=[fuzz_world.forum.slug])

    @FUZZ
    @given(data=form(title=st.text(min_size=1, max_size=50), body=st.text(min_size=1, max_size=300)),
           button=submit())
    def run(data, button):
        before = row_counts()
        check(client.post(url, {**data, **button}), before, what="new thread")

    run()


def test_fuzz_new_thread_with_a_poll(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    url = reverse("forums:thread-create", args=[fuzz_world.forum.slug])
    lines = st.lists(st.text(min_size=1, max_size=30), max_size=25).map("\n".join)

    @FUZZ
    @given(data=form(
        required={"title": st.just("A poll"), "body": st.just("Vote."), "poll-question": st.text(max_size=40),
                  "poll-options": lines},
        **{"poll-max_choices": st.integers(min_value=-2, max_value=30).map(str),
           "poll-results_shown": st.sampled_from(["voted", "closed", "always", "never"]),
           "poll-allows_vote_change": st.sampled_from(["on", ""]),
           "poll-closes_at": st.sampled_from(["", "2999-01-01T10:00", "2000-01-01T10:00", "31/31/31"])},
    ), button=submit())
    def run(data, button):
        before = row_counts()
        check(client.post(url, {**data, **button}), before, what="new thread with a poll")
        assert Poll.objects.filter(options__isnull=True).count() == 0
        assert not PollOption.objects.filter(text="").exists()

    run()


def test_fuzz_poll_vote(fuzz_world):
    """Whatever a member sends, they have one vote in the poll at most, of no more
    options than it allows, all of them its own."""
    client = logged_in(fuzz_world.user("member"))
    thread = fuzz_world.poll_thread
    url = reverse("forums:poll-vote", args=[thread.pk])
    ids = list(PollOption.objects.values_list("pk", flat=True))
    option = st.one_of(st.sampled_from(ids).map(str), VALUE)

    @FUZZ
    @given(data=form(option=st.one_of(option, st.lists(st.sampled_from(ids), max_size=4))))
    def run(data):
        before = row_counts()
        response = client.post(url, data)
        assert response.status_code < 500
        if response.status_code != 302:
            assert row_counts() == before
        mine = PollChoice.objects.filter(vote__member=fuzz_world.user("member"))
        assert PollVote.objects.filter(member=fuzz_world.user("member")).count() <= 1
        assert mine.count() <= 1 and not mine.exclude(option__poll=thread.pk).exists()
        assert_counters_equal_rows()

    run()


def test_fuzz_reply(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    post = fuzz_world.other_reply
    url = reverse("forums:reply-create", args=[post.thread_id, post.number])

    @FUZZ
    @given(data=form(subject=st.text(max_size=30), body=st.text(min_size=1, max_size=300)),
           button=submit(), quote_=st.one_of(st.none(), TEXT))
    def run(data, button, quote_):
        before = row_counts()
        target = url if quote_ is None else f"{url}?quote={quote(quote_[:500])}"
        check(client.post(target, {**data, **button}), before, what="reply")
        assert client.get(target).status_code < 500

    run()


def test_fuzz_edit(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    post = fuzz_world.member_reply
    url = reverse("forums:post-edit", args=[post.thread_id, post.number])

    @FUZZ
    @given(data=form(subject=st.text(min_size=1, max_size=30), body=st.text(min_size=1, max_size=300)),
           button=submit())
    def run(data, button):
        before = row_counts()
        response = client.post(url, {**data, **button})
        assert response.status_code < 500
        after = row_counts()
        # An edit adds one revision at most, and nothing else.
        assert after["posts"] == before["posts"]
        if response.status_code != 302:
            assert after == before
        assert_counters_equal_rows()

    run()


def test_fuzz_settings(fuzz_world):
    member = fuzz_world.user("member")
    client = logged_in(member)
    url = reverse("members:settings")
    choices = {
        "thread_view": st.sampled_from(["original", "all"]),
        "layout": st.sampled_from(["threaded", "flat"]),
        "highlight": st.sampled_from(["none", "newest"]),
        "replies_per_page": st.sampled_from(["25", "50", "100", "200"]),
        "time_zone": st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
        "theme": st.sampled_from(["system", "light", "dark"]),
    }

    @settings(FUZZ, max_examples=20)
    @given(data=form(
        required=choices,
        display_name=st.text(max_size=20), hometown=st.text(max_size=20),
        country=st.text(max_size=20), slogan=st.text(max_size=50),
        jury_blacklist=st.sampled_from(["", "ann", "ann, al", "nobody"]),
        jury_available=st.sampled_from(["on", ""]), email_notifications=st.sampled_from(["on", ""]),
        remove_avatar=st.sampled_from(["on", ""]),
    ))
    def run(data):
        before = row_counts()
        response = client.post(url, data)
        check(response, before, what="settings")
        if response.status_code == 302:
            # Whatever was saved, the pages that show it still render.
            for page in (url, fuzz_world.thread.get_view_all_url(),
                         reverse("members:member-detail", args=[member.username])):
                assert client.get(page).status_code < 500, page

    run()


def test_fuzz_private_messages(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    create_url = reverse("conversations:conversation-create")
    answer_url = reverse("conversations:conversation-detail", args=[fuzz_world.conversation.pk])

    @FUZZ
    @given(new=form(required={"recipient": st.sampled_from(["ann", "@ann", "ANN", "mia", "nobody", "sol"]),
                              "subject": st.text(min_size=1, max_size=30),
                              "body": st.text(min_size=1, max_size=200)}),
           answer=form(body=st.text(min_size=1, max_size=200)), button=submit(),
           to=st.one_of(st.none(), TEXT))
    def run(new, answer, button, to):
        before = row_counts()
        target = create_url if to is None else f"{create_url}?to={quote(to[:500])}"
        check(client.post(target, {**new, **button}), before, what="new conversation")
        assert client.get(target).status_code < 500
        before = row_counts()
        check(client.post(answer_url, {**answer, **button}), before, what="answer")

    run()


def test_fuzz_alert(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    rule = str(fuzz_world.rule.pk)
    targets = [fuzz_world.other_reply, fuzz_world.opening_post, fuzz_world.hidden_post]

    @FUZZ
    @given(data=form(rule=st.sampled_from([rule, "0", "-1", str(2**64)]), comment=st.text(max_size=100)),
           post=st.sampled_from(targets))
    def run(data, post):
        before = row_counts()
        url = reverse("moderation:alert-create", args=[post.thread_id, post.number])
        check(client.post(url, data), before, what="alert")

    run()


def test_fuzz_jury_vote(fuzz_world):
    client = logged_in(fuzz_world.user("member"))
    url = reverse("moderation:jury-detail", args=[fuzz_world.jury.pk])
    answers = st.sampled_from([answer for answer, _label in JurySeat.Answer.choices])

    @FUZZ
    @given(data=form(answer=answers, comment=st.text(max_size=100)))
    def run(data):
        before = row_counts()
        response = client.post(url, data)
        assert response.status_code < 500
        after = row_counts()
        if response.status_code != 302:
            assert after == before
        # One member answers once, whatever they send afterwards.
        assert after["answers"] - before["answers"] in (0, 1)
        assert_counters_equal_rows()

    run()


def test_fuzz_search(fuzz_world):
    visitor = Client(raise_request_exception=False)
    member = logged_in(fuzz_world.user("member"))
    url = reverse("forums:search")

    @FUZZ
    @given(query=form(
        q=st.sampled_from(["cats", "cats dogs", '"cats or"', "-dogs", "cat*", "OR", "NEAR("]),
        forum=st.sampled_from(["pets", "sports", "nope"]), author=st.sampled_from(["ann", "mia", "x"]),
        since=st.dates().map(str), until=st.dates().map(str),
        order=st.sampled_from(["relevance", "newest", "oldest"]), page=st.integers(-1, 5).map(str),
    ), as_member=st.booleans())
    def run(query, as_member):
        before = row_counts()
        check((member if as_member else visitor).get(url, query), before, what="search")

    run()


def test_fuzz_signup_and_login(fuzz_world):
    signup_url, login_url = reverse("account_signup"), reverse("account_login")

    @FEW
    @given(signup=form(required={"username": st.from_regex(r"[a-z][a-z0-9_]{2,14}", fullmatch=True),
                                 "email": st.emails(), "password1": st.just(SIGNUP_PASSWORD),
                                 "password2": st.just(SIGNUP_PASSWORD)}),
           login=form(required={"login": st.sampled_from(["mia", "mia@example.org", "MIA", "nobody"]),
                                "password": st.sampled_from([PASSWORD, "wrong"])},
                      remember=st.sampled_from(["on", ""])))
    def run(signup, login):
        before = row_counts()
        check(Client(raise_request_exception=False).post(signup_url, signup), before, what="signup")
        client = Client(raise_request_exception=False)
        before = row_counts()
        response = client.post(login_url, login)
        check(response, before, what="login")
        assert response.status_code != 302 or "_auth_user_id" in client.session

    run()


# Query strings on every list page, as a visitor and as a member

QUERY_KEYS = st.one_of(
    st.sampled_from([
        "page", "highlight", "view", "q", "sort", "order", "forum", "author", "since", "until",
        "quote", "to", "next", "layout", "before", "after", "format",
    ]),
    st.text(min_size=1, max_size=10),
)
QUERY = st.dictionaries(
    QUERY_KEYS,
    st.one_of(VALUE, st.integers(-3, 10_000).map(str), st.sampled_from(["newest", "none", "flat", "all"])),
    max_size=4,
)


def _list_pages(world) -> list[str]:
    thread, post = world.thread, world.other_reply
    return [
        reverse("forums:home"), reverse("forums:forum-index"), reverse("forums:latest"),
        reverse("forums:greatest"), reverse("forums:search"), reverse("forums:latest-feed"),
        reverse("forums:section-detail", args=[world.forum.section.slug]),
        world.forum.get_absolute_url(), reverse("forums:forum-about", args=[world.forum.slug]),
        reverse("forums:forum-feed", args=[world.forum.slug]),
        thread.get_absolute_url(), thread.get_view_all_url(),
        reverse("forums:post-history", args=[post.thread_id, post.number]),
        reverse("forums:post-jump", args=[post.thread_id, post.number]),
        reverse("forums:notification-list"), reverse("forums:my-posts"),
        reverse("forums:my-subscriptions"), reverse("conversations:inbox"),
        reverse("conversations:sent"),
        reverse("conversations:conversation-detail", args=[world.conversation.pk]),
        reverse("moderation:log"), reverse("moderation:jury-detail", args=[world.jury.pk]),
        reverse("moderation:jury-result", args=[world.closed_jury.pk]),
        reverse("members:member-detail", args=["mia"]), reverse("members:settings"),
    ]


def test_fuzz_query_strings_on_list_pages(fuzz_world):
    pages = _list_pages(fuzz_world)
    clients = [Client(raise_request_exception=False), logged_in(fuzz_world.user("member"))]

    @settings(FUZZ, max_examples=50)
    @given(page=st.sampled_from(pages), query=QUERY, who=st.sampled_from([0, 1]))
    def run(page, query, who):
        before = row_counts()
        response = clients[who].get(page, query)
        assert response.status_code < 500, (page, query, response.status_code)
        assert row_counts()["posts"] == before["posts"]

    run()


# URL arguments: bad slugs, huge and negative numbers, every method

SLUG = st.one_of(st.text(min_size=1, max_size=30), _known.filter(bool), st.from_regex(r"[-a-zA-Z0-9_]{1,80}", fullmatch=True))
NUMBER = st.one_of(st.integers(min_value=0, max_value=10**30), st.sampled_from([0, 1, 2**31, 2**63, 2**64]))
PK, SLUG_MARK, NUMBER_MARK = 424242, "slugmark", 737373


def _url_templates() -> list[str]:
    """Real URLs with marks where the fuzzed arguments go."""
    int_pk = [PK]
    pk_number = [PK, NUMBER_MARK]
    return [
        reverse("forums:section-detail", args=[SLUG_MARK]),
        reverse("forums:forum-detail", args=[SLUG_MARK]),
        reverse("forums:thread-create", args=[SLUG_MARK]),
        reverse("forums:forum-about", args=[SLUG_MARK]),
        reverse("forums:forum-feed", args=[SLUG_MARK]),
        reverse("forums:forum-follow", args=[SLUG_MARK]),
        reverse("forums:forum-trash", args=[SLUG_MARK]),
        reverse("forums:forum-mark-read", args=[SLUG_MARK]),
        reverse("forums:thread-short", args=int_pk),
        reverse("forums:thread-detail", args=[PK, SLUG_MARK]),
        reverse("forums:thread-all", args=[PK, SLUG_MARK]),
        reverse("forums:thread-follow", args=int_pk),
        reverse("forums:thread-trash", args=int_pk),
        reverse("forums:post-jump", args=pk_number),
        reverse("forums:reply-create", args=pk_number),
        reverse("forums:post-edit", args=pk_number),
        reverse("forums:post-delete", args=pk_number),
        reverse("forums:post-history", args=pk_number),
        reverse("forums:post-recommend", args=pk_number),
        reverse("forums:member-ignore", args=[SLUG_MARK]),
        reverse("members:member-detail", args=[SLUG_MARK]),
        reverse("conversations:conversation-detail", args=int_pk),
        reverse("moderation:alert-create", args=pk_number),
        reverse("moderation:jury-detail", args=int_pk),
        reverse("moderation:jury-result", args=int_pk),
        reverse("moderation:thread-lock", args=int_pk),
        reverse("moderation:thread-pin", args=int_pk),
        reverse("moderation:thread-move", args=int_pk),
        reverse("moderation:post-hide", args=pk_number),
        reverse("moderation:post-verdict", args=pk_number),
        reverse("moderation:forum-hosting", args=[SLUG_MARK]),
    ]


def test_fuzz_url_arguments(fuzz_world):
    templates = _url_templates()
    clients = [
        Client(raise_request_exception=False),
        logged_in(fuzz_world.user("member")),
        logged_in(fuzz_world.user("staff")),
    ]

    @settings(FUZZ, max_examples=60)
    @given(template=st.sampled_from(templates), pk=NUMBER, number=NUMBER, slug=SLUG,
           who=st.sampled_from([0, 1, 2]), method=st.sampled_from(["get", "post"]))
    def run(template, pk, number, slug, who, method):
        url = (template.replace(str(PK), str(pk)).replace(str(NUMBER_MARK), str(number))
               .replace(SLUG_MARK, quote(slug, safe="")))
        before = row_counts()
        response = getattr(clients[who], method)(url)
        assert response.status_code < 500, (method, url, response.status_code)
        if response.status_code != 302:
            assert row_counts() == before, (method, url)

    run()


# The worst arguments, always tried: hypothesis explores, this pins what it found.
HOSTILE_SLUGS = ["a\x00b", "é" * 300, "..", "a b"]
HOSTILE_NUMBERS = [2**63, 10**30]


def test_hostile_url_arguments_on_every_url(fuzz_world):
    member = logged_in(fuzz_world.user("member"))
    failures = []
    for template in _url_templates():
        values = (
            [(n, 1, "x") for n in HOSTILE_NUMBERS] + [(1, n, "x") for n in HOSTILE_NUMBERS]
            if str(PK) in template else [(1, 1, slug) for slug in HOSTILE_SLUGS]
        )
        for pk, number, slug in values:
            url = (template.replace(str(PK), str(pk)).replace(str(NUMBER_MARK), str(number))
                   .replace(SLUG_MARK, quote(slug, safe="")))
            if member.get(url).status_code >= 500:
                failures.append(("get", url))
            before = row_counts()
            response = member.post(url)
            if response.status_code >= 500 or (response.status_code != 302 and row_counts() != before):
                failures.append(("post", url, response.status_code))
    assert not failures, failures
