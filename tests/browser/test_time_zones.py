"""Times in the member's own time zone without hunting through a 400-entry select: the
browser names its zone at sign-up and in settings (static/js/site.js); without
JavaScript the account keeps UTC."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import session_cookie
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
PASSWORD = "a long and unusual passphrase"


def _sign_up(page, live_server):
    page.goto(f"{live_server.url}/accounts/signup/")
    for label, value in [("Username", "newcomer"), ("Email", "newcomer@example.org"),
                         ("Password", PASSWORD), ("Password (again)", PASSWORD)]:
        page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?\s*$")).fill(value)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Create a free account")
    return User.objects.get(username="newcomer")


@pytest.mark.parametrize("width", VIEWPORTS)
def test_signup_takes_the_browsers_time_zone(live_server, browser, width):
    context = browser.new_context(viewport=VIEWPORTS[width], timezone_id="Asia/Tokyo")
    try:
        assert _sign_up(context.new_page(), live_server).time_zone == "Asia/Tokyo"
    finally:
        context.close()


def test_signup_without_javascript_keeps_utc(live_server, browser):
    context = browser.new_context(viewport=VIEWPORTS["390"], timezone_id="Asia/Tokyo",
                                  java_script_enabled=False)
    try:
        assert _sign_up(context.new_page(), live_server).time_zone == "UTC"
    finally:
        context.close()


@pytest.mark.parametrize("width", VIEWPORTS)
def test_settings_use_the_browsers_time_zone(live_server, browser, width):
    member = MemberFactory()
    context = browser.new_context(viewport=VIEWPORTS[width], timezone_id="America/Chicago")
    context.add_cookies([session_cookie(live_server, member)])
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/settings/")
        zone = page.get_by_label(re.compile(r"^Time zone"))
        expect(zone).to_have_value("UTC")
        page.get_by_role("button", name="Use my browser's time zone").click()
        expect(zone).to_have_value("America/Chicago")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_text("Your settings are saved.")).to_be_visible()
        member.refresh_from_db()
        assert member.time_zone == "America/Chicago"
    finally:
        context.close()


def test_settings_without_javascript_offer_no_button_that_cannot_work(live_server, browser):
    member = MemberFactory()
    context = browser.new_context(viewport=VIEWPORTS["1280"], java_script_enabled=False)
    context.add_cookies([session_cookie(live_server, member)])
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/settings/")
        expect(page.get_by_label(re.compile(r"^Time zone"))).to_be_visible()
        expect(page.get_by_role("button", name="Use my browser's time zone")).to_be_hidden()
    finally:
        context.close()
