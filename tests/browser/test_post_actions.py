"""Post actions in a real browser (issue 18, item 7): the everyday actions stay in one
row under every post, on a phone too, even ten replies deep; the rarely used and
drastic ones (Alert, Ignore, Trash) open from "More" without JavaScript."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from forums.models import TrashedThread
from forums.services import recommendation_set
from tests.browser.conftest import member_page
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}

# For each post's row of actions: the items whose top is below the first item's (a
# second row), and whether the row spills out of its post.
ROWS = """() => [...document.querySelectorAll('.post-actions')].map(row => {
    const items = [...row.children].map(item => item.getBoundingClientRect());
    const post = row.closest('.post').getBoundingClientRect();
    return {
        post: row.closest('.post').id,
        rows: new Set(items.map(item => Math.round(item.top))).size,
        spills: items.some(item => item.right > post.right + 0.5),
    };
})"""


@pytest.fixture
def long_thread(db):
    """A thread ten replies deep (the deepest indent), with long names, and a staff
    member who may edit, hide and recommend everyone's posts."""
    User = get_user_model()
    staff = MemberFactory(username="moira", display_name="Moira Featherstonehaugh (staff)")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    people = [MemberFactory(display_name=f"Rosa Delgado-Whitcombe {n}") for n in range(3)]
    thread = ThreadFactory(author=people[0], title="Snow clearing on the side streets", body="Who clears them?")
    parent = thread.posts.get(number=0)
    for depth in range(10):
        parent = ReplyFactory(parent=parent, author=people[depth % 3], body=f"Answer {depth}.")
        recommendation_set(member=staff, post=parent, recommend=True)  # "Unrecommend", the longest label
    ReplyFactory(parent=parent, author=staff, body="The staff's own reply, deepest of all.")
    return thread, staff, people


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390", "1280"])
def test_each_posts_actions_stay_on_one_row(live_server, browser, long_thread, viewport):
    thread, staff, people = long_thread
    for reader in (staff, people[1]):
        with member_page(browser, live_server, reader, viewport=viewport) as page:
            page.goto(f"{live_server.url}{thread.get_view_all_url()}")
            rows = page.evaluate(ROWS)
            assert len(rows) == 12
            assert [row for row in rows if row["rows"] != 1 or row["spills"]] == [], reader.username
            assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390", "1280"])
def test_more_opens_without_javascript_and_trash_says_what_it_does(live_server, browser, long_thread, viewport):
    thread, _staff, people = long_thread
    reader = MemberFactory()
    with member_page(browser, live_server, reader, viewport=viewport, java_script_enabled=False) as page:
        page.goto(f"{live_server.url}{thread.get_absolute_url()}")
        actions = page.locator("#post-0").get_by_role("list", name="Actions")
        expect(actions.get_by_role("link", name="Reply")).to_be_visible()
        ignore = actions.get_by_role("button", name=f"Ignore {people[0].public_name}")
        trash = actions.get_by_role("button", name="Trash: hide this thread from my lists")
        alert = actions.get_by_role("link", name="Alert")
        for hidden in (ignore, trash, alert):
            expect(hidden).to_be_hidden()

        actions.get_by_text("More").click()
        for shown in (ignore, trash, alert):
            expect(shown).to_be_visible()
            expect(shown).to_be_in_viewport()
        trash.click()

        expect(page.get_by_text("Thread trashed: it no longer shows in your lists.")).to_be_visible()
        assert TrashedThread.objects.filter(member=reader, thread=thread).exists()
        page.get_by_role("button", name="Restore thread").click()
        expect(page.get_by_text("Thread restored.")).to_be_visible()
        assert not TrashedThread.objects.filter(member=reader, thread=thread).exists()
