import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_browses_from_home_to_a_reply(live_server, page):
    call_command("load_seeds")

    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="Welcome to DU!")).to_be_visible()

    page.get_by_role("navigation", name="Forums").get_by_role("link", name="All Forums").click()
    expect(page.get_by_role("heading", name="All Forums", level=1)).to_be_visible()

    page.get_by_role("link", name="Foreign Affairs", exact=True).click()
    expect(page.get_by_role("heading", name="Foreign Affairs", level=1)).to_be_visible()

    page.get_by_role("link", name="Russia bombs Azerbaijani embassies").click()
    expect(page.get_by_text("Showing Original Post only")).to_be_visible()
    expect(page.get_by_text("Today, the biggest news comes from the South Caucasus.")).to_be_visible()
    expect(page.get_by_text("No missile fixes that.")).to_have_count(0)

    page.get_by_role("link", name="View all").click()
    expect(page.get_by_text("No missile fixes that.")).to_be_visible()
    expect(page.get_by_role("heading", name="The Zangezur Corridor is the real story")).to_be_visible()


def test_pages_load_no_third_party_resources(live_server, page):
    call_command("load_seeds")
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url)
    page.goto(f"{live_server.url}/forums/")

    assert requested and all(url.startswith(live_server.url) for url in requested), requested


def test_latest_greatest_switch_shows_the_current_page_without_colour(live_server, page):
    """The current list's link reads bold and not underlined, the other one a plain
    underlined link: told apart by weight and underline, whatever the colours."""
    for current, other in (("Latest", "Greatest"), ("Greatest", "Latest")):
        page.goto(f"{live_server.url}/{current.lower()}/")
        switch = page.get_by_role("navigation", name="Thread lists")
        here, there = switch.get_by_role("link", name=current), switch.get_by_role("link", name=other)
        expect(here).to_have_attribute("aria-current", "page")
        expect(there).not_to_have_attribute("aria-current", "page")
        style = "e => [getComputedStyle(e).fontWeight, getComputedStyle(e).textDecorationLine]"
        assert here.evaluate(style) == ["700", "none"]
        assert there.evaluate(style) == ["400", "underline"]
