"""All Forums on few screens (issue 18, item 5): a jump list of the sections and compact
rows; on phones the sections fold (<details>, no JavaScript). Before: 9,900 px tall at
1280 px and 20,100 px at 390 px for the 115 seeded forums."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from forums.models import Forum
from tests.browser.test_look_and_feel import _axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECTIONS = ["Main Forums", "Issue Forums", "Culture Forums", "Alliance Forums", "Region Forums",
            "Support Forums", "Help & Search"]


@pytest.fixture
def seeded(db):
    call_command("load_seeds")
    assert Forum.objects.count() >= 115


def _height(page):
    return page.evaluate("document.body.scrollHeight")


def _section(page, name):
    return page.locator("details.forum-section", has=page.get_by_role("heading", name=name, exact=True))


def test_all_forums_on_a_phone_folds_sections_without_javascript(live_server, browser, seeded):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/forums/")
        assert _height(page) < 6000
        jump = page.get_by_role("navigation", name="Sections")
        expect(jump.get_by_role("link")).to_have_text(SECTIONS)
        expect(page.get_by_role("link", name="Latest Breaking News", exact=True).last).to_be_visible()
        expect(page.get_by_role("link", name="Foreign Affairs", exact=True)).to_be_hidden()

        _section(page, "Issue Forums").locator("summary").click()
        expect(page.get_by_role("link", name="Foreign Affairs", exact=True)).to_be_visible()
        _section(page, "Issue Forums").locator("summary").click()
        expect(page.get_by_role("link", name="Foreign Affairs", exact=True)).to_be_hidden()

        # A jump lands in a folded section and opens it.
        jump.get_by_role("link", name="Region Forums").click()
        expect(_section(page, "Region Forums")).to_have_attribute("open", "")
        expect(_section(page, "Region Forums").locator("tbody tr").first).to_be_in_viewport()
        expect(page.get_by_role("heading", name="Region Forums", exact=True)).to_be_in_viewport()

        # A row: the name on one line, the counts and last post on the next.
        row = page.locator("tr", has=page.get_by_role("link", name="Wyoming", exact=True))
        assert row.evaluate("row => row.getBoundingClientRect().height") < 70
    finally:
        context.close()


def test_all_forums_on_a_wide_screen_shows_every_section_in_compact_rows(live_server, browser, seeded):
    context = browser.new_context(viewport=WIDE)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/forums/")
        assert _height(page) < 6500
        for name in ["Foreign Affairs", "Pets", "Wyoming"]:
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.locator(".forum-purpose")).to_have_count(0)
        heights = page.locator(".forum-list tbody tr").evaluate_all(
            "rows => rows.map(row => row.getBoundingClientRect().height)")
        assert len(heights) >= 115 and max(heights) < 64, max(heights)  # one or two lines

        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Culture Forums").click()
        expect(page.get_by_role("heading", name="Culture Forums", exact=True)).to_be_in_viewport()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_all_forums_passes_axe(live_server, browser, axe_url, seeded, viewport, theme):
    context = browser.new_context(viewport=viewport, color_scheme=theme, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/forums/")
        if viewport is PHONE:
            _section(page, "Issue Forums").locator("summary").click()
        assert _axe(page, axe_url) == []
    finally:
        context.close()
