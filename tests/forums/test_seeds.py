from django.core.management import call_command

from accounts.models import User
from forums.models import Community, Forum, Post, Section, Thread
from forums.services import reply_create

SEED_TITLE = (
    "Russia bombs Azerbaijani embassies in a massive missile retaliation "
    "to jet transfers to Ukraine - RFU News"
)


def _snapshot():
    tables = [Community, Section, Forum, Thread, Post, User]
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in tables}


def test_load_seeds_creates_the_community(db):
    call_command("load_seeds")

    community = Community.objects.get()
    assert community.welcome_title == "Welcome to DU!"
    assert "regular people, not algorithms" in community.tagline
    assert list(Section.objects.values_list("name", flat=True)) == [
        "Issue Forums", "Culture Forums", "Alliance Forums",
        "Region Forums", "Support Forums", "Help & Search",
    ]
    assert list(Forum.objects.featured().values_list("name", flat=True)) == [
        "Latest Breaking News", "Editorials & Other Articles",
        "General Discussion", "The DU Lounge",
    ]
    region = Forum.objects.filter(section__slug="region")
    assert region.filter(name__in=["California", "Wyoming", "District of Columbia"]).count() == 3
    assert region.count() >= 51


def test_load_seeds_posts_the_document_thread_in_full(db):
    call_command("load_seeds")

    thread = Thread.objects.get(title=SEED_TITLE)
    assert thread.forum.name == "Foreign Affairs"
    assert thread.reply_count == 1
    opening_post = thread.posts.get(number=0)
    assert opening_post.body.startswith("Today, the biggest news comes from the South Caucasus.")
    assert opening_post.body.rstrip().endswith("crumbles from within its own neighborhood.")
    assert opening_post.body_html.count("<p>") == 8
    assert thread.forum.post_count == 2 and thread.forum.thread_count == 1


def test_load_seeds_twice_changes_nothing(db):
    call_command("load_seeds")
    before = _snapshot()

    call_command("load_seeds")

    assert _snapshot() == before


def test_load_seeds_keeps_staff_edits_and_member_posts(db):
    call_command("load_seeds")
    Community.objects.update(name="Our Forum")
    thread = Thread.objects.get(title=SEED_TITLE)
    member = User.objects.create_user("latecomer", password="x" * 12)
    reply_create(author=member, parent=thread.posts.get(number=0), body="Posted by a member.")

    call_command("load_seeds")

    assert Community.objects.get().name == "Our Forum"
    thread.refresh_from_db()
    assert thread.reply_count == 2
    assert Thread.objects.filter(title=SEED_TITLE).count() == 1

