"""A compact header on every page (issue 18, item 4): the seeded navigation on one row at
1280 px, the tagline on the home page only, a member's own links folded under their
name, which opens without JavaScript."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from forums.models import Community
from tests.browser.conftest import session_cookie
from tests.browser.test_look_and_feel import _axe
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# What the header cost before: about 210 px at 1280 px and 135 px at 390 px.
MOST_HEADER = {1280: 100, 390: 64}
SEEDED_NAV = [
    "Latest Breaking News", "Editorials & Other Articles", "General Discussion", "The DU Lounge",
    "All Forums", "Issue Forums", "Culture Forums", "Alliance Forums", "Region Forums",
    "Support Forums", "Help & Search",
]


@pytest.fixture
def seeded(db):
    call_command("load_seeds")
    return Community.current()


def _header_height(page):
    return page.locator(".site-header").evaluate("header => header.getBoundingClientRect().height")


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_header_is_compact_and_the_tagline_is_the_home_pages(live_server, browser, seeded, viewport):
    context = browser.new_context(viewport=viewport, java_script_enabled=False)
    try:
        page = context.new_page()
        for path in ["/forums/", "/f/general-discussion/", "/latest/"]:
            page.goto(f"{live_server.url}{path}")
            assert _header_height(page) <= MOST_HEADER[viewport["width"]], path
            expect(page.get_by_text(seeded.tagline)).to_have_count(0)
        page.goto(live_server.url)
        assert _header_height(page) <= MOST_HEADER[viewport["width"]]
        expect(page.get_by_role("main").get_by_text(seeded.tagline)).to_be_visible()
        expect(page.locator(".site-header").get_by_text(seeded.tagline)).to_have_count(0)
    finally:
        context.close()


def test_seeded_navigation_is_one_row_at_1280(live_server, browser, seeded):
    context = browser.new_context(viewport=WIDE)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/forums/")
        links = page.get_by_role("navigation", name="Forums").get_by_role("link")
        expect(links).to_have_text(SEEDED_NAV)
        tops = {round(box["y"]) for box in (link.bounding_box() for link in links.all())}
        assert len(tops) == 1, tops
    finally:
        context.close()


def _open_member_menu(page, live_server, viewport):
    page.goto(f"{live_server.url}/forums/")
    assert _header_height(page) <= MOST_HEADER[viewport["width"]]
    if viewport is PHONE:
        page.locator(".site-menu > summary").click()
    account = page.get_by_role("navigation", name="Account")
    expect(account.get_by_role("link", name="Latest")).to_be_visible()
    expect(account.get_by_role("link", name="Settings")).to_be_hidden()
    account.locator("summary", has_text="Alexandra").focus()
    page.keyboard.press("Enter")
    for link in ["My profile", "My posts", "My subscriptions", "Notifications", "Messages", "Settings",
                 "Become a Star Member"]:
        expect(account.get_by_role("link", name=link)).to_be_visible()
    expect(account.get_by_role("button", name="Log out")).to_be_visible()
    return account


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_members_links_fold_under_their_name(live_server, browser, axe_url, seeded, viewport, theme):
    member = MemberFactory(display_name="Alexandra")
    context = browser.new_context(viewport=viewport, color_scheme=theme, bypass_csp=True)
    context.add_cookies([session_cookie(live_server, member)])
    try:
        page = context.new_page()
        _open_member_menu(page, live_server, viewport)
        if viewport is WIDE:  # the open list lies over the page and leaves the layout alone
            assert _header_height(page) <= MOST_HEADER[1280]
        assert _axe(page, axe_url) == []
    finally:
        context.close()


def test_members_links_open_without_javascript(live_server, browser, seeded):
    member = MemberFactory(display_name="Alexandra")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.add_cookies([session_cookie(live_server, member)])
    try:
        page = context.new_page()
        account = _open_member_menu(page, live_server, PHONE)
        account.get_by_role("link", name="Settings").click()
        expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    finally:
        context.close()
