"""Thread lists in a real browser (issue 18, item 16): dense enough that a forum page
shows at least 15 threads on a 1280 × 800 screen without scrolling, the author's
avatar beside each row, unread threads told apart by weight and a "New" badge rather
than by colour alone, and titles that are links without an underline until hover or
focus; on profiles too."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from forums.models import Forum
from forums.services import thread_visit_record
from tests.browser.conftest import member_page
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}
# Titles of the lengths members write, from a few words to a headline and its source.
TITLES = [
    "Snow days",
    "Who is running for the school board this year?",
    "County budget vote moved to Friday",
    "Senate passes the infrastructure bill after a long night of amendments - AP",
    "Photos from the march downtown",
    "What are you reading this week?",
    "The bus route 12 cuts are back on the agenda",
    "Governor signs the paid leave bill into law",
    "Recipe thread: soups for a cold November",
    "Local library extends its weekend hours",
    "Why the water rates went up (and what we can do about it)",
    "Thank you, volunteers!",
    "Early voting locations and hours for the special election in the county",
    "Fact check: the claims in last night's debate",
    "Garden club swap on Saturday",
]
# How many rows each screen shows whole before any scrolling: at least. (At 390 px
# the rows' times, "now" or "a minute ago", decide whether a line wraps.)
ROWS_ABOVE_THE_FOLD = {1280: 15, 390: 5}

ROWS = """() => [...document.querySelectorAll('.thread-list tbody tr')].map(row => {
    const title = row.querySelector('.thread-title'), avatar = row.querySelector('img.avatar');
    const style = getComputedStyle(title);
    const box = row.getBoundingClientRect(), picture = avatar && avatar.getBoundingClientRect();
    return {
        title: title.textContent,
        whole: box.top >= 0 && box.bottom <= innerHeight,
        unread: row.classList.contains('is-unread'),
        weight: Number(style.fontWeight),
        underline: style.textDecorationLine,
        badge: row.querySelector('.badge-new')?.textContent ?? '',
        // Avatars load lazily: only those on screen have loaded.
        avatar: avatar ? {loaded: avatar.complete && avatar.naturalWidth > 0 || box.bottom > innerHeight,
                          width: picture.width,
                          before: picture.left >= box.left && picture.right <= title.getClientRects()[0].left,
                          alt: avatar.getAttribute('alt')} : null,
    };
})"""

# Avatars load lazily, after the page's load event: wait for those on screen.
AVATARS_ON_SCREEN_LOADED = """() => [...document.querySelectorAll('.thread-list img.avatar')]
    .filter(img => img.getBoundingClientRect().bottom <= innerHeight)
    .every(img => img.complete && img.naturalWidth > 0)"""


@pytest.fixture
def busy_forum(db):
    """The seeded Foreign Affairs with 30 more threads by three members, some with
    replies; a reader who has opened every other thread since."""
    call_command("load_seeds", verbosity=0)
    forum = Forum.objects.get(slug="foreign-affairs")
    people = [MemberFactory(display_name=name) for name in ("Alice Norton", "Bashir Rahimi", "Chen Wei-Ling")]
    reader = MemberFactory()
    threads = []
    for n in range(30):
        thread = ThreadFactory(forum=forum, author=people[n % 3], title=TITLES[n % len(TITLES)])
        if n % 4 == 0:
            ReplyFactory(parent=thread.posts.get(number=0), author=people[(n + 1) % 3])
        threads.append(thread)
    for thread in threads[::2]:
        thread_visit_record(member=reader, thread=thread)
    return forum, reader


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_forum_page_shows_many_threads_without_scrolling(live_server, browser, busy_forum, viewport):
    forum, reader = busy_forum
    with member_page(browser, live_server, reader, viewport=viewport) as page:
        page.goto(f"{live_server.url}{forum.get_absolute_url()}")
        rows = page.evaluate(ROWS)
        whole = sum(row["whole"] for row in rows)
        assert whole >= ROWS_ABOVE_THE_FOLD[viewport["width"]], whole
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_rows_show_avatars_and_unread_threads_stand_out_without_colour(live_server, browser, busy_forum, viewport):
    forum, reader = busy_forum
    with member_page(browser, live_server, reader, viewport=viewport) as page:
        for url in (forum.get_absolute_url(), "/latest/"):
            page.goto(f"{live_server.url}{url}")
            page.wait_for_function(AVATARS_ON_SCREEN_LOADED)
            rows = page.evaluate(ROWS)
            unread, read = [row for row in rows if row["unread"]], [row for row in rows if not row["unread"]]
            assert len(unread) >= 10 and len(read) >= 10, (url, len(unread), len(read))
            for row in rows:
                # The author's avatar starts the row; the author is named in words too.
                assert row["avatar"] == {"loaded": True, "width": 24, "before": True, "alt": ""}, row
                assert row["underline"] == "none", row
            # Unread: bolder, and a badge that says so, whatever the colours.
            assert {row["weight"] for row in unread} == {700} and {row["weight"] for row in read} == {500}
            assert all(row["badge"] in ("New", "1 new") for row in unread)
            assert all(row["badge"] == "" for row in read)

        # The titles are links: underlined on hover and on keyboard focus.
        title = page.locator(".thread-title").first
        title.hover()
        assert title.evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
        page.mouse.move(0, 0)
        title.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        expect(title).to_be_focused()
        assert title.evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"

        # A member's own list of threads and replies, on their profile, alike.
        page.goto(f"{live_server.url}{forum.threads.latest('created_at').author.get_absolute_url()}")
        first = page.locator(".recent-posts > li > a").first
        assert first.evaluate("e => getComputedStyle(e).textDecorationLine") == "none"
        first.hover()
        assert first.evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
