"""Polls on opening posts (issue 19, item 1): creating one with a new thread, voting,
changing a vote, closing, who may do each, and what pages, search, feeds and
"Download my data" show of them."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.services import member_suspend, star_grant
from accounts.models import User
from community.export import member_data_export
from forums import polls
from forums.models import Poll, PollChoice, PollOption, PollVote, Thread
from forums.polls import PollSpec, poll_vote
from forums.services import post_delete, post_edit, thread_create
from moderation.models import ModerationAction
from moderation.services import host_add, poll_close
from tests.factories import MemberFactory, ReplyFactory
from tests.invariants import assert_counters_equal_rows

COLOURS = ("Red", "Green", "Blue", "Yellow")


def _spec(**changes) -> PollSpec:
    return PollSpec(**{"question": "Which colour?", "options": COLOURS, **changes})


def _poll_thread(forum, author, **changes) -> Thread:
    return thread_create(forum=forum, author=author, title="A colour poll", body="Vote, please.",
                         poll=_spec(**changes))


def _options(thread) -> list[PollOption]:
    return list(PollOption.objects.filter(poll=thread.pk).order_by("position"))


def _counts(thread) -> list[int]:
    return [option.vote_count for option in _options(thread)]


def _voters(thread) -> int:
    return Poll.objects.get(pk=thread.pk).voter_count


@pytest.fixture
def poll_thread(forum, member):
    return _poll_thread(forum, member)


@pytest.fixture
def voters(db):
    return MemberFactory.create_batch(3)


# Creating a poll.


def test_thread_create_with_a_poll_keeps_its_question_options_and_choices(forum, member):
    closes = timezone.now() + timedelta(days=2)
    thread = _poll_thread(forum, member, max_choices=2, allows_vote_change=True,
                          results_shown=Poll.Results.ALWAYS, closes_at=closes)
    poll = Poll.objects.get(thread=thread)
    assert thread.has_poll and Thread.objects.get(pk=thread.pk).has_poll
    assert (poll.question, poll.max_choices, poll.allows_vote_change, poll.results_shown, poll.closes_at) == (
        "Which colour?", 2, True, "always", closes
    )
    assert [option.text for option in _options(thread)] == list(COLOURS)


def test_threads_without_a_poll_have_none(thread):
    assert not thread.has_poll and not Poll.objects.exists()


@pytest.mark.parametrize("changes, message", [
    ({"options": ("Only one",)}, polls.TOO_FEW_OPTIONS),
    ({"options": tuple(f"Option {n}" for n in range(200))}, polls.TOO_MANY_OPTIONS),
    ({"options": ("Same", "same")}, polls.OPTION_TWICE),
    ({"options": ("x" * 201, "y")}, polls.OPTION_TOO_LONG),
    ({"question": "   "}, polls.QUESTION_REQUIRED),
    ({"question": "q" * 301}, polls.QUESTION_TOO_LONG),
    ({"max_choices": 5}, polls.MAX_CHOICES_RANGE),
    ({"closes_at": timezone.now() - timedelta(minutes=1)}, polls.CLOSES_IN_THE_PAST),
])
def test_a_bad_poll_is_refused_and_no_thread_is_made(forum, member, changes, message):
    with pytest.raises(ValidationError) as refusal:
        _poll_thread(forum, member, **changes)
    assert refusal.value.messages[0].startswith(message.split("{")[0].split("“")[0])
    assert not Thread.objects.exists() and not Poll.objects.exists()


def test_only_star_members_start_polls_when_the_setting_says_so(settings, forum, member):
    settings.FORUMS_POLLS_FOR = "star"
    with pytest.raises(PermissionDenied):
        _poll_thread(forum, member)
    star = star_grant(member=MemberFactory(), months=1)
    assert _poll_thread(forum, star).has_poll


# Voting.


def test_votes_are_counted_per_option_and_per_voter(poll_thread, voters):
    red, green, *_rest = _options(poll_thread)
    poll_vote(member=voters[0], thread=poll_thread, options=[red])
    poll_vote(member=voters[1], thread=poll_thread, options=[red.pk])
    poll_vote(member=voters[2], thread=poll_thread, options=[green])
    assert _counts(poll_thread) == [2, 1, 0, 0]
    assert _voters(poll_thread) == 3 == PollVote.objects.count()
    assert_counters_equal_rows()


def test_multiple_choice_allows_up_to_its_maximum(forum, member, voters):
    thread = _poll_thread(forum, member, max_choices=2)
    red, green, blue, _yellow = _options(thread)
    poll_vote(member=voters[0], thread=thread, options=[red, green])
    with pytest.raises(ValidationError, match="at most 2"):
        poll_vote(member=voters[1], thread=thread, options=[red, green, blue])
    assert _counts(thread) == [1, 1, 0, 0] and _voters(thread) == 1


def test_a_second_vote_is_refused_and_changes_nothing(poll_thread, voters):
    red, green, *_rest = _options(poll_thread)
    poll_vote(member=voters[0], thread=poll_thread, options=[red])
    with pytest.raises(ValidationError, match="already voted"):
        poll_vote(member=voters[0], thread=poll_thread, options=[green])
    assert _counts(poll_thread) == [1, 0, 0, 0] and _voters(poll_thread) == 1


def test_the_database_refuses_a_second_vote_row(poll_thread, voters):
    from django.db import IntegrityError, transaction

    poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        PollVote.objects.create(poll_id=poll_thread.pk, member=voters[0], cast_at=timezone.now())


def test_a_vote_can_be_changed_where_the_poll_allows_it(forum, member, voters):
    thread = _poll_thread(forum, member, max_choices=2, allows_vote_change=True)
    red, green, blue, _yellow = _options(thread)
    poll_vote(member=voters[0], thread=thread, options=[red, green])
    poll_vote(member=voters[0], thread=thread, options=[green, blue])
    assert _counts(thread) == [0, 1, 1, 0] and _voters(thread) == 1
    assert set(PollChoice.objects.values_list("option__text", flat=True)) == {"Green", "Blue"}
    assert_counters_equal_rows()


def test_a_vote_for_an_option_of_another_poll_is_refused(forum, member, poll_thread, voters):
    other = _poll_thread(forum, member)
    with pytest.raises(ValidationError, match="not one of this poll"):
        poll_vote(member=voters[0], thread=poll_thread, options=_options(other)[:1])
    assert _voters(poll_thread) == 0 and not PollVote.objects.exists()


def test_an_empty_vote_is_refused(poll_thread, voters):
    with pytest.raises(ValidationError, match="Choose an option"):
        poll_vote(member=voters[0], thread=poll_thread, options=[])


def test_suspended_and_restricted_members_cannot_vote(poll_thread, voters):
    suspended = member_suspend(member=voters[0], reason="Spam")
    User.objects.filter(pk=voters[1].pk).update(restricted_until=timezone.now() + timedelta(days=3))
    restricted = User.objects.get(pk=voters[1].pk)
    for member in (suspended, restricted):
        with pytest.raises(PermissionDenied):
            poll_vote(member=member, thread=poll_thread, options=_options(poll_thread)[:1])
    assert not PollVote.objects.exists()


def test_no_vote_after_the_closing_time(poll_thread, voters):
    Poll.objects.filter(pk=poll_thread.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="closed"):
        poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])


def test_no_vote_once_the_opening_post_is_deleted(poll_thread, member, voters):
    post_delete(member=member, post=poll_thread.posts.get(number=0))
    with pytest.raises(ValidationError, match="removed"):
        poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])


def test_no_vote_in_a_locked_thread_until_it_is_unlocked(poll_thread, voters):
    Thread.objects.filter(pk=poll_thread.pk).update(is_locked=True)
    with pytest.raises(ValidationError, match="locked"):
        poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])
    assert not PollVote.objects.exists()
    Thread.objects.filter(pk=poll_thread.pk).update(is_locked=False)
    poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])
    assert _voters(poll_thread) == 1


# Closing: hosts and staff, in the moderation log.


def test_hosts_close_a_poll_and_the_log_says_so(poll_thread, forum, voters):
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    host = MemberFactory()
    host_add(moderator=staff, forum=forum, member=host)
    assert poll_close(moderator=host, thread=poll_thread) is True
    assert Poll.objects.get(pk=poll_thread.pk).closed_at is not None
    entry = ModerationAction.objects.get(kind=ModerationAction.Kind.POLL_CLOSE)
    assert (entry.actor, entry.role, entry.thread_id) == (host, "host", poll_thread.pk)
    assert poll_close(moderator=staff, thread=poll_thread) is False  # closed already: no second entry
    with pytest.raises(ValidationError, match="closed"):
        poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])


def test_members_cannot_close_a_poll(poll_thread, member):
    with pytest.raises(PermissionDenied):
        poll_close(moderator=member, thread=poll_thread)
    assert Poll.objects.get(pk=poll_thread.pk).closed_at is None


# The new-thread form.

NEW_THREAD = {"title": "Lunch vote", "body": "Where shall we eat?", "post": "1"}


def _poll_fields(**fields):
    return {f"poll-{name}": value for name, value in {
        "question": "Which place?", "options": "Pizza\nSushi\n\nTacos", "max_choices": "1",
        "results_shown": "voted", **fields,
    }.items()}


def test_the_new_thread_form_starts_a_poll(member_client, forum):
    response = member_client.post(reverse("forums:thread-create", args=[forum.slug]),
                                  {**NEW_THREAD, **_poll_fields(allows_vote_change="on")})
    thread = Thread.objects.get()
    assert response.status_code == 302
    assert [option.text for option in _options(thread)] == ["Pizza", "Sushi", "Tacos"]
    assert Poll.objects.get().allows_vote_change


def test_the_new_thread_form_without_a_poll_starts_none(member_client, forum):
    form = member_client.get(reverse("forums:thread-create", args=[forum.slug])).content.decode()
    assert "Add a poll" in form and 'name="poll-options"' in form
    response = member_client.post(reverse("forums:thread-create", args=[forum.slug]),
                                  {**NEW_THREAD, **_poll_fields(question="", options="")})
    assert response.status_code == 302 and not Poll.objects.exists()
    # A form sent without any of the poll's fields is a thread without a poll too.
    response = member_client.post(reverse("forums:thread-create", args=[forum.slug]),
                                  {**NEW_THREAD, "title": "No poll fields at all"})
    assert response.status_code == 302 and not Poll.objects.exists()


@pytest.mark.parametrize("options, message", [
    ("Just one", "at least 2 options"),
    ("\n".join(f"Option {n}" for n in range(200)), "at most 20 options (this one has 200)"),
])
def test_the_new_thread_form_refuses_a_bad_poll_clearly(member_client, forum, options, message):
    response = member_client.post(reverse("forums:thread-create", args=[forum.slug]),
                                  {**NEW_THREAD, **_poll_fields(options=options)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Thread.objects.exists()


def test_the_new_thread_form_offers_polls_only_to_star_members_when_set(settings, client, forum):
    settings.FORUMS_POLLS_FOR = "star"
    url = reverse("forums:thread-create", args=[forum.slug])
    client.force_login(MemberFactory())
    assert "Add a poll" not in client.get(url).content.decode()
    # Poll fields sent anyway are not a poll.
    assert client.post(url, {**NEW_THREAD, **_poll_fields()}).status_code == 302
    assert not Poll.objects.exists()
    client.force_login(star_grant(member=MemberFactory(), months=1))
    assert "Add a poll" in client.get(url).content.decode()


# The thread page and the vote form.


def _main(response) -> str:
    page = response.content.decode()
    return page[page.index("<main"):page.index("</main>")]


def test_members_vote_from_the_thread_page_without_javascript(client, poll_thread, voters):
    client.force_login(voters[0])
    page = _main(client.get(poll_thread.get_absolute_url()))
    assert "Poll:" in page and 'type="radio"' in page
    assert "The results are shown once you have voted" in page
    red = _options(poll_thread)[0]
    response = client.post(
        reverse("forums:poll-vote", args=[poll_thread.pk]),
        {"option": red.pk, "next": poll_thread.get_view_all_url() + "#poll"},
    )
    assert response.status_code == 302 and response["Location"] == poll_thread.get_view_all_url() + "#poll"
    page = _main(client.get(poll_thread.get_view_all_url()))
    assert "1 vote (100%)" in page and "(your vote)" in page
    assert '<meter class="poll-bar" min="0" max="100" value="100"' in page
    assert 'type="radio"' not in page  # no change of vote in this poll


@pytest.mark.parametrize("how, message", [
    ("other poll", "That option is not one of this poll"),
    ("second vote", "You have already voted in this poll."),
    ("closed", "This poll is closed"),
    ("nothing", "Choose an option before voting."),
])
def test_a_refused_vote_gets_a_clear_400_and_changes_nothing(client, forum, member, poll_thread, voters,
                                                              how, message):
    other = _poll_thread(forum, member)
    red = _options(poll_thread)[0]
    option = red.pk
    if how == "other poll":
        option = _options(other)[0].pk
    elif how == "second vote":
        poll_vote(member=voters[0], thread=poll_thread, options=[red])
    elif how == "closed":
        Poll.objects.filter(pk=poll_thread.pk).update(closed_at=timezone.now())
    before = (_counts(poll_thread), _voters(poll_thread), PollChoice.objects.count())
    client.force_login(voters[0])
    data = {} if how == "nothing" else {"option": option}
    response = client.post(reverse("forums:poll-vote", args=[poll_thread.pk]), data)
    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert (_counts(poll_thread), _voters(poll_thread), PollChoice.objects.count()) == before


def test_a_suspended_member_is_refused_with_403(client, poll_thread, voters):
    client.force_login(member_suspend(member=voters[0], reason="Spam"))
    page = _main(client.get(poll_thread.get_absolute_url()))
    assert "Your account cannot vote at the moment." in page and 'name="option"' not in page
    response = client.post(reverse("forums:poll-vote", args=[poll_thread.pk]),
                           {"option": _options(poll_thread)[0].pk})
    assert response.status_code == 403 and "suspended" in response.content.decode()
    assert not PollVote.objects.exists()


def test_a_thread_without_a_poll_has_no_vote_page(member_client, thread):
    assert member_client.get(reverse("forums:poll-vote", args=[thread.pk])).status_code == 404


def _results_shown(client, thread) -> bool:
    return "poll-results" in _main(client.get(thread.get_absolute_url()))


def test_results_after_voting(client, poll_thread, voters):
    poll_vote(member=voters[1], thread=poll_thread, options=_options(poll_thread)[:1])
    client.force_login(voters[0])
    assert not _results_shown(client, poll_thread)
    poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[1:2])
    assert _results_shown(client, poll_thread)
    client.logout()
    assert not _results_shown(client, poll_thread)
    Poll.objects.filter(pk=poll_thread.pk).update(closed_at=timezone.now())
    assert _results_shown(client, poll_thread)


def test_results_after_closing(client, forum, member, voters):
    thread = _poll_thread(forum, member, results_shown=Poll.Results.AFTER_CLOSING)
    poll_vote(member=voters[0], thread=thread, options=_options(thread)[:1])
    client.force_login(voters[0])
    page = _main(client.get(thread.get_absolute_url()))
    assert "poll-results" not in page and "once the poll closes" in page
    Poll.objects.filter(pk=thread.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    page = _main(client.get(thread.get_absolute_url()))
    assert "poll-results" in page and "This poll is closed." in page and 'type="radio"' not in page


def test_a_locked_threads_poll_offers_no_vote_and_shows_its_results(client, poll_thread, voters):
    poll_vote(member=voters[0], thread=poll_thread, options=_options(poll_thread)[:1])
    client.force_login(voters[1])
    page = _main(client.get(poll_thread.get_absolute_url()))
    assert 'type="radio"' in page and "poll-results" not in page
    Thread.objects.filter(pk=poll_thread.pk).update(is_locked=True)
    page = _main(client.get(poll_thread.get_absolute_url()))
    assert 'type="radio"' not in page and "This poll is closed." in page and "poll-results" in page


def test_results_always_are_shown_to_visitors_with_percentages(client, forum, member, voters):
    thread = _poll_thread(forum, member, results_shown=Poll.Results.ALWAYS)
    red, green, *_rest = _options(thread)
    for voter, option in zip(voters, [red, red, green]):
        poll_vote(member=voter, thread=thread, options=[option])
    page = _main(client.get(thread.get_view_all_url()))
    assert "2 votes (67%)" in page and "1 vote (33%)" in page and "0 votes (0%)" in page
    assert "3 members have voted." in page
    assert "Log in to vote" in page and 'name="option"' not in page


def test_a_hidden_opening_post_hides_its_poll(client, poll_thread):
    from moderation.services import post_hide

    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    post_hide(staff=staff, post=poll_thread.posts.get(number=0), hide=True)
    assert "Which colour?" not in _main(client.get(poll_thread.get_absolute_url()))
    client.force_login(staff)
    assert "Which colour?" in _main(client.get(poll_thread.get_absolute_url()))


def test_hosts_see_close_poll_and_closing_from_the_page_logs_it(client, forum, poll_thread):
    staff = User.objects.create_user("staffer", password="x" * 12, is_staff=True)
    client.force_login(staff)
    assert "Close poll" in _main(client.get(poll_thread.get_absolute_url()))
    response = client.post(reverse("moderation:poll-close", args=[poll_thread.pk]))
    assert response.status_code == 302
    assert ModerationAction.objects.filter(kind="poll_close", thread=poll_thread).count() == 1
    assert "Closed a poll" in client.get(reverse("moderation:log")).content.decode()
    page = _main(client.get(poll_thread.get_absolute_url()))
    assert "Close poll" not in page and "This poll is closed." in page


# Search, feeds and the member's data.


def test_search_finds_a_poll_by_its_question_also_after_an_edit(client, forum, member):
    thread = thread_create(forum=forum, author=member, title="Lunch", body="Details below.",
                           poll=_spec(question="Pineapple on pizza, yes or no?"))
    found = client.get(reverse("forums:search"), {"q": "pineapple"}).content.decode()
    assert thread.get_absolute_url() in found
    post_edit(editor=member, post=thread.posts.get(number=0), body="New details below.")
    found = client.get(reverse("forums:search"), {"q": "pineapple"}).content.decode()
    assert thread.get_absolute_url() in found


def test_rerendering_posts_keeps_the_question_searchable(poll_thread, voters):
    from django.core.management import call_command

    from forums.models import Post

    reply = ReplyFactory(parent=poll_thread.posts.get(number=0), author=voters[0], body="Blue, surely.")
    Post.objects.filter(thread=poll_thread).update(body_html="<p>stale</p>")
    call_command("rerender_posts")
    texts = dict(Post.objects.filter(thread=poll_thread).values_list("number", "body_text"))
    assert texts == {0: "Vote, please. Which colour?", reply.number: "Blue, surely."}


def test_feeds_carry_the_poll_as_text(client, poll_thread):
    for name in ("latest-feed", "latest-feed-atom"):
        feed = client.get(reverse(f"forums:{name}")).content.decode()
        assert "Poll: Which colour?" in feed and "Yellow" in feed, name


def test_download_my_data_holds_my_votes_and_my_polls(poll_thread, member, voters):
    green = _options(poll_thread)[1]
    poll_vote(member=voters[0], thread=poll_thread, options=[green])
    data = member_data_export(member=voters[0])
    assert data["poll_votes"] == [{
        "thread_id": poll_thread.pk, "question": "Which colour?", "options": ["Green"],
        "cast_at": data["poll_votes"][0]["cast_at"],
    }]
    assert member_data_export(member=member)["threads"][0]["poll_question"] == "Which colour?"


# Query counts: a poll costs one query, however many options and votes it has.


@pytest.fixture
def three_polls(forum):
    authors = MemberFactory.create_batch(3)
    threads = [_poll_thread(forum, author, results_shown=Poll.Results.ALWAYS, max_choices=2)
               for author in authors]
    for n, voter in enumerate(MemberFactory.create_batch(3)):
        for thread in threads:
            poll_vote(member=voter, thread=thread, options=_options(thread)[n:n + 2])
            ReplyFactory(parent=thread.posts.get(number=0), author=voter)
    return threads


@pytest.mark.parametrize("view", ["get_absolute_url", "get_view_all_url"])
def test_thread_page_query_count_with_a_poll(client, three_polls, view, django_assert_num_queries):
    thread = three_polls[0]
    # header 3, sponsor, thread with its opening post and its forum's host ids (for the
    # Host badge), replies or index, and the poll with its options; no query for
    # recommenders, as the opening post's count says it has none
    with django_assert_num_queries(7):
        page = _main(client.get(getattr(thread, view)()))
    assert page.count('class="poll-bar"') == len(COLOURS)


@pytest.mark.parametrize("view", ["get_absolute_url", "get_view_all_url"])
def test_thread_page_query_count_with_a_poll_for_a_voter(client, three_polls, view, django_assert_num_queries):
    thread = three_polls[0]
    voter = PollVote.objects.filter(poll=thread.pk).first().member
    client.force_login(voter)
    # session, member, header 3, sponsor, thread with its opening post, replies or
    # index, the member's state in one statement, record visit, the poll with the
    # member's choices (the opening post has no recommenders to look up)
    with django_assert_num_queries(11):
        page = _main(client.get(getattr(thread, view)()))
    assert "(your vote)" in page


def test_more_votes_cost_no_more_queries(client, three_polls, django_assert_max_num_queries):
    thread = three_polls[0]
    for voter in MemberFactory.create_batch(5):
        poll_vote(member=voter, thread=thread, options=_options(thread)[:1])
    with django_assert_max_num_queries(10):
        client.get(thread.get_absolute_url())


def test_vote_page_query_count(client, three_polls, django_assert_num_queries):
    client.force_login(MemberFactory())
    # session, member, header 3, sponsor, thread, opening post, the poll
    with django_assert_num_queries(9):
        response = client.get(reverse("forums:poll-vote", args=[three_polls[0].pk]))
    assert response.status_code == 200 and 'type="checkbox"' in response.content.decode()


def test_feed_query_count_with_polls(client, three_polls, django_assert_num_queries):
    # community name, threads with authors, opening posts, the polls' options
    with django_assert_num_queries(4):
        feed = client.get(reverse("forums:latest-feed")).content.decode()
    assert feed.count("Poll: Which colour?") == 3



def test_who_starts_polls_comes_from_the_environment(settings):
    from tests.processes import run_python

    assert settings.FORUMS_POLLS_FOR == "members"
    show = "import django; django.setup(); from django.conf import settings; print(settings.FORUMS_POLLS_FOR)"
    assert run_python("-c", show, FORUMS_POLLS_FOR="Star").stdout.strip() == "star"
    wrong = run_python("-c", show, FORUMS_POLLS_FOR="everyone")
    assert wrong.returncode != 0 and "FORUMS_POLLS_FOR='everyone' is not one of: members, star" in wrong.stderr
