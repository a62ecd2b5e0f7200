"""Posting in a real browser: new threads with a preview, replies to replies, quotes,
edits with their history, and the whole flow with JavaScript turned off."""

import re

import pytest
from playwright.sync_api import expect

from forums.models import Post, Thread
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory
from tests.pictures import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def console(page):
    """Every message the browser prints to its console, CSP violations included."""
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


@pytest.fixture
def no_script(browser):
    """A page with JavaScript turned off, and every message its console prints."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    yield page, messages
    context.close()


def assert_no_csp_violation(console):
    violations = [text for text in console if "Content Security Policy" in text]
    assert not violations, violations


def field(page, label):
    """The form field labelled `label` (Django's forms add a colon to the label)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}:?\s*$"))


def log_in(page, live_server, member):
    """Log in through allauth's login form and wait until the header shows the member."""
    page.goto(f"{live_server.url}/accounts/login/")
    field(page, "Login").fill(member.username)
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("navigation", name="Account").locator("summary", has_text=member.public_name)
    ).to_be_visible()


def post_actions(page, number):
    """The "Actions" list (Reply, Quote, Edit, Delete) of post `number` on the page."""
    return page.locator(f"#post-{number}").get_by_role("list", name="Actions")


def test_member_previews_then_posts_a_new_thread(live_server, page, console):
    member = MemberFactory()
    forum = ForumFactory(name="Town Hall", slug="town-hall")
    log_in(page, live_server, member)

    page.goto(f"{live_server.url}{forum.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Town Hall", level=1)).to_be_visible()
    page.get_by_role("link", name="Post new thread").click()
    expect(page.get_by_role("heading", name="Post new thread", level=1)).to_be_visible()

    field(page, "Title").fill("Fix the potholes on Main Street")
    field(page, "Message").fill("The potholes are **really deep** this spring.")
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("strong")).to_have_text("really deep")
    expect(preview).not_to_contain_text("**")
    # The preview keeps what was typed in the form, and saves nothing.
    expect(field(page, "Title")).to_have_value("Fix the potholes on Main Street")
    expect(field(page, "Message")).to_have_value("The potholes are **really deep** this spring.")
    assert not Thread.objects.exists()
    assert not Post.objects.exists()

    page.get_by_role("button", name="Post thread").click()

    expect(page.get_by_text("Showing Original Post only")).to_be_visible()
    expect(page.get_by_role("heading", name="Fix the potholes on Main Street", level=1)).to_be_visible()
    expect(page.locator("#post-0 .post-body strong")).to_have_text("really deep")
    expect(page.get_by_role("region", name="Preview")).to_have_count(0)
    thread = Thread.objects.get()
    assert (thread.title, thread.forum, thread.author) == ("Fix the potholes on Main Street", forum, member)
    assert page.url == f"{live_server.url}{thread.get_absolute_url()}"
    assert_no_csp_violation(console)


def test_member_replies_to_a_reply_and_the_index_nests_it(live_server, page, console):
    member = MemberFactory()
    thread = ThreadFactory(title="Library opening hours", body="The library should open on Sundays.")
    ReplyFactory(
        parent=thread.posts.get(number=0), subject="Sundays are for families",
        body="Families would use it most on Sundays.",
    )
    log_in(page, live_server, member)

    page.goto(f"{live_server.url}{thread.get_absolute_url()}")
    page.get_by_role("link", name="View all").click()
    expect(page.locator("#post-1")).to_contain_text("Families would use it most on Sundays.")
    post_actions(page, 1).get_by_role("link", name="Reply", exact=True).click()

    expect(page.get_by_role("heading", name="Reply to “Sundays are for families”", level=1)).to_be_visible()
    field(page, "Subject").fill("Students too")
    field(page, "Message").fill("Students need a quiet place to study on weekends.")
    page.get_by_role("button", name="Post reply").click()

    new_reply = page.locator("#post-2")
    expect(new_reply.get_by_role("heading", name="Students too")).to_be_visible()
    expect(new_reply).to_contain_text("Students need a quiet place to study on weekends.")
    expect(page.get_by_text("in reply to #1")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}{thread.get_view_all_url()}")
    reply = Post.objects.get(thread=thread, number=2)
    assert (reply.parent.number, reply.author, reply.depth) == (1, member, 2)

    page.get_by_role("link", name="Original post only").click()
    expect(page.get_by_text("Showing Original Post only")).to_be_visible()
    index = page.locator("ul.reply-tree")
    expect(index.locator("> li")).to_have_count(1)  # one reply at the top level...
    nested = index.locator("> li#index-1 > ul > li#index-2")  # ...and the new one under it
    expect(nested).to_have_count(1)
    expect(nested.get_by_role("link", name="Students too")).to_be_visible()
    assert_no_csp_violation(console)


def test_quote_starts_the_reply_with_the_quoted_opening_post(live_server, page, console):
    author = MemberFactory(display_name="Alice Alder")
    member = MemberFactory()
    thread = ThreadFactory(
        author=author, title="Bike lanes on Elm Road",
        body="Elm Road needs a protected bike lane.\nCars park in the painted one.",
    )
    log_in(page, live_server, member)

    page.goto(f"{live_server.url}{thread.get_absolute_url()}")
    post_actions(page, 0).get_by_role("link", name="Quote", exact=True).click()

    message = field(page, "Message")
    expect(message).to_have_value(re.compile(r"Alice Alder wrote:"))
    expect(message).to_have_value(re.compile(r"^> Elm Road needs a protected bike lane\.$", re.M))
    expect(message).to_have_value(re.compile(r"^> Cars park in the painted one\.$", re.M))
    message.fill(message.input_value() + "Paint is not protection.")
    page.get_by_role("button", name="Post reply").click()

    reply = page.locator("#post-1")
    quote = reply.locator("blockquote")
    expect(quote).to_have_count(1)
    expect(quote).to_contain_text("Alice Alder wrote:")
    expect(quote).to_contain_text("Elm Road needs a protected bike lane.")
    expect(quote).to_contain_text("Cars park in the painted one.")
    expect(reply.locator(".post-body > p", has_text="Paint is not protection.")).to_be_visible()
    assert_no_csp_violation(console)


def test_author_edits_a_reply_and_the_history_keeps_the_earlier_version(live_server, page, console):
    member = MemberFactory()
    thread = ThreadFactory(title="Farmers market", body="The market moves to the square.")
    ReplyFactory(
        parent=thread.posts.get(number=0), author=member, subject="Saturday mornings",
        body="It opens at eight on Saturdays.",
    )
    log_in(page, live_server, member)

    page.goto(f"{live_server.url}{thread.get_view_all_url()}")
    post_actions(page, 1).get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name="Edit your post", level=1)).to_be_visible()
    expect(field(page, "Message")).to_have_value("It opens at eight on Saturdays.")
    field(page, "Message").fill("It opens at nine on Saturdays.")
    page.get_by_role("button", name="Save changes").click()

    reply = page.locator("#post-1")
    expect(reply).to_contain_text("It opens at nine on Saturdays.")
    expect(reply).not_to_contain_text("It opens at eight on Saturdays.")
    reply.get_by_role("link", name="Edit history (1)").click()

    expect(page.get_by_role("heading", name="Edit history", level=1)).to_be_visible()
    expect(page.locator("article.revision")).to_have_count(1)
    expect(page.locator("article.revision")).to_contain_text("It opens at eight on Saturdays.")
    expect(page.locator("#post-1")).to_contain_text("It opens at nine on Saturdays.")
    assert_no_csp_violation(console)


def test_replying_works_without_javascript(live_server, no_script):
    page, console = no_script
    member = MemberFactory()
    thread = ThreadFactory(title="Snow clearing", body="Who clears the side streets?")
    log_in(page, live_server, member)

    page.goto(f"{live_server.url}{thread.get_absolute_url()}")
    post_actions(page, 0).get_by_role("link", name="Reply", exact=True).click()
    field(page, "Subject").fill("The city does")
    field(page, "Message").fill("The city clears them **after** the main roads.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview").locator("strong")).to_have_text("after")
    assert not Post.objects.filter(thread=thread, number=1).exists()
    page.get_by_role("button", name="Post reply").click()

    reply = page.locator("#post-1")
    expect(reply.get_by_role("heading", name="The city does")).to_be_visible()
    expect(reply.locator(".post-body strong")).to_have_text("after")
    assert Post.objects.get(thread=thread, number=1).author == member
    assert_no_csp_violation(console)


def test_post_action_buttons_work_without_javascript(live_server, browser):
    """Recommend and Ignore are buttons of one page-level form (form= and formaction=):
    they post to their own post's or author's address, and come back to the post."""
    member, author = MemberFactory(), MemberFactory(display_name="Pat Plow")
    thread = ThreadFactory(title="Snow clearing", body="Who clears the side streets?")
    ReplyFactory(parent=thread.posts.get(number=0), body="The city, after the main roads.")
    ReplyFactory(parent=thread.posts.get(number=0), author=author, body="Nobody, lately.")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, live_server, member)
        page.goto(f"{live_server.url}{thread.get_view_all_url()}")

        post_actions(page, 2).get_by_role("button", name="Recommend").click()

        expect(page).to_have_url(re.compile(rf"{re.escape(thread.get_view_all_url())}#post-2$"))
        expect(page.locator("#post-2 .recommend-count")).to_have_text("1 recommendation")
        expect(post_actions(page, 2).get_by_role("button", name="Unrecommend")).to_be_visible()
        expect(page.locator("#post-1 .recommend-count")).to_have_count(0)
        assert Post.objects.get(thread=thread, number=2).recommendation_count == 1

        # Ignoring is rarely used, so it waits behind "More".
        post_actions(page, 2).get_by_text("More").click()
        post_actions(page, 2).get_by_role("button", name="Ignore Pat Plow").click()

        expect(page.locator("#post-2")).to_contain_text("You are ignoring Pat Plow")
        post_actions(page, 2).get_by_text("More").click()
        expect(post_actions(page, 2).get_by_role("button", name="Stop ignoring Pat Plow")).to_be_visible()
        expect(page.locator("#post-1 .post-body")).to_contain_text("The city, after the main roads.")
    finally:
        context.close()


def test_member_attaches_a_picture_without_javascript_and_it_shows(live_server, no_script):
    """A plain file field, Preview (which keeps the picture), then Post reply: the picture
    loads from the site itself, under the page's CSP."""
    page, console = no_script
    member = MemberFactory()
    thread = ThreadFactory(title="Our street in spring", body="Show us yours.")
    log_in(page, live_server, member)

    page.goto(f"{live_server.url}{thread.get_absolute_url()}")
    post_actions(page, 0).get_by_role("link", name="Reply", exact=True).click()
    field(page, "Message").fill("Blossom! ![Cherry trees in bloom](blossom.png)")
    field(page, "Pictures").set_input_files(
        files=[{"name": "blossom.png", "mimeType": "image/png", "buffer": image_bytes(size=(320, 200))}]
    )
    page.get_by_role("button", name="Preview").click()
    preview_picture = page.get_by_role("region", name="Preview").get_by_role("img", name="Cherry trees in bloom")
    expect(preview_picture).to_be_visible()
    assert preview_picture.evaluate("image => image.naturalWidth") == 320
    # Stored on preview, and listed among the member's pictures not placed yet.
    expect(page.locator(".pending-picture-name")).to_have_text("blossom.png")
    page.get_by_role("button", name="Post reply").click()

    picture = page.locator("#post-1").get_by_role("img", name="Cherry trees in bloom")
    expect(picture).to_be_visible()
    assert picture.evaluate("image => image.complete && image.naturalWidth") == 320
    assert Post.objects.get(thread=thread, number=1).pictures.get().name == "blossom.png"
    assert_no_csp_violation(console)
