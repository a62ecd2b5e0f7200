"""A visitor reading a thread finds the way in (issue 18, item 3): "Log in or create a
free account to reply", then the reply form they wanted once logged in."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
PASSWORD = "correct horse battery staple"


def _field(page, label):
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?\s*$"))


def _log_in(page, member):
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    _field(page, "Login").fill(member.username)
    _field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def discussion(db):
    thread = ThreadFactory(title="Potholes on Main Street")
    reply = ReplyFactory(parent=thread.posts.get(number=0), subject="Fill them with gravel")
    member = MemberFactory()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    return thread, reply, member


@pytest.mark.parametrize("width", VIEWPORTS)
@pytest.mark.parametrize("way_in", ["prompt", "reply"])
def test_visitor_logs_in_and_lands_on_the_reply_form(live_server, browser, discussion, width, way_in):
    """From the prompt under the opening post ("Original post only"), or from a reply's
    own Reply ("View all")."""
    thread, reply, member = discussion
    context = browser.new_context(viewport=VIEWPORTS[width])
    try:
        page = context.new_page()
        if way_in == "prompt":
            page.goto(f"{live_server.url}{thread.get_absolute_url()}")
            prompt = page.locator(".reply-prompt")
            expect(prompt).to_have_text("Log in or create a free account to reply.")
            prompt.get_by_role("link", name="Log in").click()
            subject = thread.title
        else:
            page.goto(f"{live_server.url}{thread.get_view_all_url()}")
            page.locator(f"#post-{reply.number}").get_by_role("link", name="Reply").click()
            subject = reply.subject
        _log_in(page, member)
        expect(page.get_by_role("heading", name=f"Reply to “{subject}”", level=1)).to_be_visible()
        expect(page.get_by_role("button", name="Post reply")).to_be_visible()
    finally:
        context.close()


def test_visitor_signs_up_from_the_prompt_and_lands_on_the_reply_form(live_server, browser, discussion):
    thread, _reply, _member = discussion
    context = browser.new_context(viewport=VIEWPORTS["390"])
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{thread.get_absolute_url()}")
        page.locator(".reply-prompt").get_by_role("link", name="create a free account").click()
        expect(page.get_by_role("heading", name="Create a free account", level=1)).to_be_visible()
        for label, value in [("Username", "newcomer"), ("Email", "newcomer@example.org"),
                             ("Password", "a long and unusual passphrase"),
                             ("Password (again)", "a long and unusual passphrase")]:
            _field(page, label).fill(value)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Reply to “Potholes on Main Street”", level=1)).to_be_visible()
    finally:
        context.close()
