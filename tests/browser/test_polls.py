"""Voting in a poll in a real browser, with JavaScript and without: the form posts, the
page comes back to the poll with the results, and nothing breaks the CSP."""

import re

import pytest
from playwright.sync_api import expect

from forums.models import Poll, PollVote
from forums.polls import PollSpec
from forums.services import thread_create
from tests.factories import ForumFactory, MemberFactory

from .test_posting import assert_no_csp_violation, field, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_member_votes_and_sees_the_results(live_server, browser, javascript):
    member = MemberFactory()
    thread = thread_create(
        forum=ForumFactory(), author=MemberFactory(), title="Snow day plans", body="Two at most.",
        poll=PollSpec(question="What shall we do?", options=("Sledging", "Skating", "Stay in"), max_choices=2),
    )
    context = browser.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        log_in(page, live_server, member)
        page.goto(f"{live_server.url}{thread.get_view_all_url()}")

        poll = page.get_by_role("region", name="Poll: What shall we do?")
        expect(poll.get_by_text("The results are shown once you have voted")).to_be_visible()
        poll.get_by_label("Sledging").check()
        poll.get_by_label("Stay in").check()
        poll.get_by_role("button", name="Vote").click()

        expect(page).to_have_url(re.compile(rf"{re.escape(thread.get_view_all_url())}#poll$"))
        poll = page.get_by_role("region", name="Poll: What shall we do?")
        expect(poll.get_by_text("1 member has voted.")).to_be_visible()
        results = poll.get_by_role("listitem")
        expect(results).to_have_count(3)
        expect(results.nth(0)).to_contain_text("1 vote (100%)")
        expect(results.nth(0)).to_contain_text("(your vote)")
        expect(results.nth(1)).to_contain_text("0 votes (0%)")
        # The bar is a meter, named by its option, that screen readers read out.
        expect(poll.get_by_role("meter", name=re.compile("Sledging"))).to_have_attribute("value", "100")
        expect(poll.get_by_role("button", name="Vote")).to_have_count(0)
        assert_no_csp_violation(console)
    finally:
        context.close()
    vote = PollVote.objects.get(member=member)
    assert sorted(vote.choices.values_list("option__text", flat=True)) == ["Sledging", "Stay in"]
    assert Poll.objects.get(pk=thread.pk).voter_count == 1


def test_member_starts_a_thread_with_a_poll_without_javascript(live_server, browser):
    """"Add a poll" is a <details> on the new-thread form: it opens without script."""
    member = MemberFactory()
    forum = ForumFactory(name="Town Hall", slug="town-hall")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server, member)
        page.goto(f"{live_server.url}/f/town-hall/new/")
        field(page, "Title").fill("Library hours")
        field(page, "Message").fill("The library wants to know.")
        page.get_by_text("Add a poll").click()
        field(page, "Question").fill("Which evening should it stay open?")
        field(page, "Options").fill("Tuesday\nThursday\nFriday")
        field(page, "Show the results").select_option("always")
        page.get_by_role("button", name="Post thread").click()

        poll = page.get_by_role("region", name="Poll: Which evening should it stay open?")
        expect(poll.get_by_role("radio")).to_have_count(3)
        expect(poll.get_by_text("0 members have voted.")).to_be_visible()
    finally:
        context.close()
    assert forum.threads.get().poll.question == "Which evening should it stay open?"
