"""Look and feel in a real browser: every kind of page, as a visitor and as a member, in
the light and the dark theme, on a phone and on a wide screen.

- axe-core finds no accessibility violations (its default rules, WCAG 2.0 and 2.1 A
  and AA and its best practices, and the WCAG 2.2 AA rules such as target size);
- each page has exactly one h1;
- no page scrolls sideways at 390 px;
- screenshots of every page go to test-results/screenshots/<theme>-<width>/ for review;
- the menu folds on phones and stays open on wide screens, without JavaScript, and the
  keyboard reaches it;
- the site's Content Security Policy stays enforced (axe is injected into pages through
  a context that bypasses it, and only there).
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import member_update
from tests.browser.conftest import session_cookie
from tests.browser.tour import build_tour

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}
# The page background of each theme (--bg in site.css), to prove the theme took effect.
BACKGROUND = {"light": "rgb(255, 255, 255)", "dark": "rgb(20, 23, 27)"}
# Pages that answer with something other than 200 on purpose.
STATUS = {"not-found": 404, "reply-form-errors": 400}


def _run_action(page, action):
    """Bring a page into the state worth checking: a preview shown, errors shown."""
    if action == "preview":
        page.get_by_label("Title").fill("Potholes on Main Street")
        page.get_by_label("Message").fill("The potholes are **really deep** this spring.")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("region", name="Preview")).to_be_visible()
    elif action == "reply-errors":
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Post reply").click()
        expect(page.locator("#id_body_error")).to_be_visible()
    return navigation.value


def _visit(page, live_server, tour_page):
    response = page.goto(f"{live_server.url}{tour_page.path}")
    if tour_page.action:
        response = _run_action(page, tour_page.action)
    expected = STATUS.get(tour_page.name, 200)
    assert response.status == expected, f"{tour_page.name}: {tour_page.path} answered {response.status}"


def _sideways(page):
    """How far the page scrolls sideways, in CSS pixels (0 when it does not)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _h1_count(page):
    return page.locator("h1").count()


# What axe checks: its default set (WCAG 2.0 and 2.1 A and AA, best practices) and
# the WCAG 2.2 AA rules, which it leaves out unless asked (target size: 24 × 24 px).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


def _axe(page, axe_url):
    """axe-core's violations on the current page, one readable line each. Only pages of
    contexts that bypass the CSP can load it."""
    page.add_script_tag(url=axe_url)
    result = page.evaluate(
        "tags => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"{violation['id']} ({violation['impact']}) at {node['target']}: {summary}")
    return lines


def _visits(tour, role):
    """(user or None, page) for everything `role` looks at."""
    if role == "visitor":
        return [(None, page) for page in tour.visitor_pages]
    return [(tour.viewer, page) for page in tour.member_pages] + tour.others_pages


@pytest.mark.parametrize("role", ["visitor", "member"])
@pytest.mark.parametrize("theme, viewport", [("light", WIDE), ("dark", PHONE)], ids=["light-1280", "dark-390"])
def test_axe_finds_no_violations_on_any_page(live_server, browser, axe_url, screenshot_dir, role, theme, viewport):
    """Visitors get the theme from the system (color_scheme emulation); members get it
    from their preference, set against the emulated system theme so that the page must
    follow the preference (html[data-theme])."""
    tour = build_tour()
    system = theme if role == "visitor" else ("dark" if theme == "light" else "light")
    members = {user for user, _ in _visits(tour, role) if user is not None}
    for user in members:
        user.refresh_from_db()
        member_update(member=user, theme=theme)
    folder = screenshot_dir / f"{theme}-{viewport['width']}"
    folder.mkdir(parents=True, exist_ok=True)

    problems = []
    contexts = {}
    try:
        for user, tour_page in _visits(tour, role):
            if user not in contexts:
                # Only these contexts bypass the CSP: axe arrives from another origin.
                context = browser.new_context(viewport=viewport, color_scheme=system, bypass_csp=True)
                if user is not None:
                    context.add_cookies([session_cookie(live_server, user)])
                contexts[user] = context.new_page()
            page = contexts[user]
            _visit(page, live_server, tour_page)
            where = f"{role} {theme} {viewport['width']}px {tour_page.name} ({tour_page.path})"

            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            if background != BACKGROUND[theme]:
                problems.append(f"{where}: {theme} theme not applied (background {background})")
            if _h1_count(page) != 1:
                problems.append(f"{where}: {_h1_count(page)} h1 elements, not 1")
            if viewport is PHONE and _sideways(page) > 0:
                problems.append(f"{where}: scrolls sideways by {_sideways(page)} px")
            problems += [f"{where}: {line}" for line in _axe(page, axe_url)]
            page.screenshot(path=folder / f"{role}-{tour_page.name}.jpg", full_page=True, quality=85)
    finally:
        for page in contexts.values():
            page.context.close()

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["visitor", "member"])
def test_no_page_scrolls_sideways_on_a_phone(live_server, browser, screenshot_dir, role):
    """At 390 px every page fits the width: lists fold into rows, long words and URLs
    wrap, code and tables scroll inside themselves. Runs with the CSP enforced."""
    tour = build_tour()
    folder = screenshot_dir / "light-390"
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    contexts = {}
    try:
        for user, tour_page in _visits(tour, role):
            if user not in contexts:
                context = browser.new_context(viewport=PHONE, color_scheme="light")
                if user is not None:
                    context.add_cookies([session_cookie(live_server, user)])
                page = context.new_page()
                page.on("console", lambda message, where=problems: (
                    "Content Security Policy" in message.text and where.append(f"CSP: {message.text}")))
                contexts[user] = page
            page = contexts[user]
            _visit(page, live_server, tour_page)
            overflow = _sideways(page)
            if overflow > 0:
                wide = page.evaluate("""() => {
                    const width = document.documentElement.clientWidth;
                    return [...document.querySelectorAll('body *')]
                        .filter(el => el.getBoundingClientRect().right > width + 0.5)
                        .slice(0, 5).map(el => el.tagName.toLowerCase() + '.' + el.className);
                }""")
                problems.append(f"{role} {tour_page.name}: scrolls sideways by {overflow} px ({wide})")
            page.screenshot(path=folder / f"{role}-{tour_page.name}.jpg", full_page=True, quality=85)
    finally:
        for page in contexts.values():
            page.context.close()

    assert not problems, "\n".join(problems)


def test_csp_stays_enforced_outside_the_axe_runs(live_server, page):
    """The pages' policy refuses inline scripts: the one Playwright injects does not run."""
    blocked = []
    page.on("console", lambda message: blocked.append(message.text))
    response = page.goto(live_server.url)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy

    try:
        page.add_script_tag(content="window.inlineScriptRan = true;")
    except Exception:  # Playwright may report the refused script as an error
        pass

    assert page.evaluate("window.inlineScriptRan === true") is False
    assert any("Content Security Policy" in text for text in blocked), blocked


def test_menu_folds_on_phones_and_stays_open_on_wide_screens_without_javascript(live_server, browser):
    build_tour()
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/forums/")
        forums_nav = page.get_by_role("navigation", name="Forums")
        menu = page.locator("summary", has_text="Menu")
        expect(menu).to_be_visible()
        expect(forums_nav).to_be_hidden()
        expect(page.get_by_role("navigation", name="Account")).to_be_hidden()

        # Skip link, site name, then the menu: Enter opens it, Tab walks into it.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(menu).to_be_focused()
        page.keyboard.press("Enter")
        expect(forums_nav).to_be_visible()
        expect(forums_nav.get_by_role("link", name="All Forums")).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("searchbox", name="Search the forums")).to_be_focused()

        page.set_viewport_size(WIDE)
        page.goto(f"{live_server.url}/forums/")
        expect(menu).to_be_hidden()
        expect(forums_nav).to_be_visible()
        expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Log in")).to_be_visible()
        forums_nav.get_by_role("link", name="Issue Forums").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Issue Forums", level=1)).to_be_visible()
    finally:
        context.close()


def test_skip_link_and_focus_are_visible_and_motion_can_be_reduced(live_server, browser):
    build_tour()
    context = browser.new_context(viewport=WIDE, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(live_server.url)
        assert page.locator("html").get_attribute("lang")

        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        assert page.evaluate("getComputedStyle(document.activeElement).transitionDuration") == "0s"
        page.keyboard.press("Enter")
        assert page.url.endswith("#content")

        # Every focus shows an outline of at least 2 px.
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert outline[0] != "none" and outline[1] >= 2, outline
    finally:
        context.close()


def test_reply_index_is_a_nested_list_and_view_all_a_list_of_replies(live_server, page):
    tour = build_tour()
    thread_page = next(p for p in tour.visitor_pages if p.name == "thread")
    page.goto(f"{live_server.url}{thread_page.path}")
    index = page.locator("ul.reply-tree")
    # Ten replies, each one level below the one before: ten lists deep.
    expect(index.locator(":scope" + " > li > ul" * 9 + " > li")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", name=re.compile(r"^\d+ replies$"), level=2)).to_be_visible()

    page.get_by_role("link", name="View all").click()
    replies = page.locator("ol.reply-list > li.reply")
    expect(replies).to_have_count(12)
    expect(page.get_by_role("heading", level=3)).to_have_count(12)
    expect(page.locator("#post-2").get_by_text("in reply to #1")).to_be_visible()


# Every control a page shows can be reached with the Tab key, in a member's busiest
# page: a host reading "View all", with every post's actions and the host tools.
REACHABLE = """() => {
    const controls = [...document.querySelectorAll(
        'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
        .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden'
                      && !el.closest('details:not([open]) > :not(summary)'));
    controls.forEach((el, n) => el.dataset.control = n);
    return controls.length;
}"""


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_keyboard_reaches_every_control_on_a_thread(live_server, browser, viewport):
    tour = build_tour()
    thread_all = next(p for p in tour.member_pages if p.name == "thread-all")
    context = browser.new_context(viewport=viewport)
    context.add_cookies([session_cookie(live_server, tour.viewer)])
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{thread_all.path}")
        if viewport is PHONE:
            page.locator("summary", has_text="Menu").click()
        total = page.evaluate(REACHABLE)
        assert total > 80  # header, host tools and the actions of thirteen posts
        reached, extra = set(), []
        for _ in range(2 * total + 20):
            page.keyboard.press("Tab")
            control = page.evaluate(
                "document.activeElement.dataset.control ?? document.activeElement.outerHTML.slice(0, 80)")
            if control.isdigit():
                reached.add(control)
            else:
                extra.append(control)
            if len(reached) == total:
                break
        missed = page.evaluate(
            "reached => [...document.querySelectorAll('[data-control]')]"
            ".filter(el => !reached.includes(el.dataset.control)).map(el => el.outerHTML.slice(0, 120))",
            sorted(reached),
        )
        assert missed == [], extra
        # The last control in the header works with a pointer too.
        account = page.get_by_role("navigation", name="Account")
        account.locator(".account-menu > summary").click()
        account.get_by_role("button", name="Log out").click()
        # (On a phone the menu is folded again on the next page, so look past visibility.)
        expect(page.locator(".account-nav a", has_text="Log in")).to_be_attached()
    finally:
        context.close()
