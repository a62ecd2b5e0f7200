import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Sponsor, User
from accounts.services import code_batch_create, member_suspend, member_update, star_grant
from tests.factories import MemberFactory, ReplyFactory, ThreadFactory

SETTINGS_URL = reverse("members:settings")
STAR_URL = reverse("accounts:star")


def _text(response) -> str:
    return response.content.decode()


def _settings_data(**changes):
    data = {
        "display_name": "", "hometown": "", "country": "", "slogan": "",
        "thread_view": "op", "layout": "threaded", "highlight": "none",
        "replies_per_page": "50", "time_zone": "UTC", "theme": "system",
        "jury_available": "on", "jury_blacklist": "",
    }
    data.update(changes)
    return data


# The permission ladder.


@pytest.mark.parametrize("url", [SETTINGS_URL])
def test_member_pages_send_visitors_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_visitor_cannot_redeem_a_code(client, db):
    code = code_batch_create(label="x", quantity=1, months=1).codes.get()
    response = client.post(STAR_URL, {"code": code.code})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    code.refresh_from_db()
    assert code.redeemed_by is None


def test_settings_only_ever_change_the_logged_in_member(member_client, member, other_member):
    response = member_client.post(
        SETTINGS_URL, _settings_data(display_name="Me Myself", username=other_member.username,
                                     id=other_member.pk)
    )
    assert response.status_code == 302
    member.refresh_from_db()
    other_member.refresh_from_db()
    assert member.display_name == "Me Myself"
    assert other_member.display_name != "Me Myself"


def test_settings_post_needs_csrf_token(member, db):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(member)
    response = csrf_client.post(SETTINGS_URL, _settings_data(display_name="Forged"))
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.display_name != "Forged"


def test_settings_page_shows_current_values(member_client, member, other_member):
    member_update(member=member, slogan="Vote!", jury_blacklist=[other_member])
    page = _text(member_client.get(SETTINGS_URL))
    assert 'value="Vote!"' in page
    assert other_member.username in page
    assert "Available to serve on juries" in page


def test_settings_errors_are_shown_next_to_the_field(member_client, member):
    response = member_client.post(
        SETTINGS_URL, _settings_data(replies_per_page="7", jury_blacklist="nobody-here",
                                     time_zone="Mars/Olympus")
    )
    assert response.status_code == 400
    page = _text(response)
    assert "No member is called nobody-here." in page
    assert "Select a valid choice" in page
    member.refresh_from_db()
    assert member.replies_per_page == 50


def test_settings_avatar_upload_and_bad_file(member_client, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = member_client.post(
        SETTINGS_URL,
        {**_settings_data(), "avatar": SimpleUploadedFile("a.png", b"not an image", "image/png")},
    )
    assert response.status_code == 400
    assert "Upload a valid image" in _text(response)


# Preferences change how threads read.


@pytest.fixture
def long_thread(forum):
    thread = ThreadFactory(forum=forum, title="Long thread")
    opening_post = thread.posts.get(number=0)
    first = ReplyFactory(parent=opening_post, subject="Reply one")
    for n in range(2, 9):
        ReplyFactory(parent=first if n % 2 else opening_post, subject=f"Reply {n}")
    thread.refresh_from_db()
    return thread


def test_thread_view_preference_changes_thread_links(member_client, member, long_thread):
    forum_url = long_thread.forum.get_absolute_url()
    assert f'href="{long_thread.get_absolute_url()}"' in _text(member_client.get(forum_url))

    member_client.post(SETTINGS_URL, _settings_data(thread_view="all"))

    assert f'href="{long_thread.get_view_all_url()}"' in _text(member_client.get(forum_url))


def test_layout_preference_orders_replies_flat_or_threaded(member_client, member, long_thread):
    def subjects():
        page = _text(member_client.get(long_thread.get_view_all_url()))
        return re.findall(
            r'class="post-subject">(?:<span class="new-marker"[^>]*>★</span> )?'
            r'<a href="#post-\d+">([^<]+)</a>', page
        )

    threaded = subjects()
    member_client.post(SETTINGS_URL, _settings_data(layout="flat"))
    flat = subjects()

    assert flat == ["Reply one"] + [f"Reply {n}" for n in range(2, 9)]
    assert threaded != flat and sorted(threaded) == sorted(flat)


def test_replies_per_page_preference_paginates_view_all(member_client, member, long_thread):
    member_update(member=member, replies_per_page=25)
    assert "Page 1 of" not in _text(member_client.get(long_thread.get_view_all_url()))
    User.objects.filter(pk=member.pk).update(replies_per_page=5)  # below the form's choices
    assert "Page 1 of 2" in _text(member_client.get(long_thread.get_view_all_url()))


def test_highlight_preference_marks_the_five_newest(member_client, member, long_thread):
    assert "is-highlighted" not in _text(member_client.get(long_thread.get_absolute_url()))

    member_client.post(SETTINGS_URL, _settings_data(highlight="newest"))

    page = _text(member_client.get(long_thread.get_absolute_url()))
    highlighted = re.findall(r'<li id="index-(\d+)" class="is-highlighted">', page)
    assert sorted(map(int, highlighted)) == [4, 5, 6, 7, 8]


def test_visitors_highlight_by_query_string(client, long_thread):
    page = _text(client.get(long_thread.get_view_all_url(), {"highlight": "newest"}))
    assert page.count("is-highlighted") == 5
    assert "Highlight 5 most recent replies" in _text(client.get(long_thread.get_absolute_url()))


def test_theme_and_time_zone_preferences(member_client, member, long_thread):
    member_client.post(SETTINGS_URL, _settings_data(theme="dark", time_zone="Asia/Tokyo"))
    page = _text(member_client.get(long_thread.get_absolute_url()))
    assert 'data-theme="dark"' in page
    tokyo = timezone.localtime(long_thread.created_at, timezone=zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert tokyo.isoformat()[:16] in page



def test_settings_show_each_members_own_time_zone_chosen(client, db):
    """The time zone list is kept by each process (config.forms.KeptOptionsSelect):
    each member, one after another, sees their own zone chosen and no other."""
    for zone in ["Asia/Tokyo", "UTC", "America/Argentina/Buenos_Aires", "Asia/Tokyo"]:
        member = MemberFactory()
        member_update(member=member, time_zone=zone)
        client.force_login(member)
        page = _text(client.get(SETTINGS_URL))
        select = re.search(r'<select name="time_zone".*?</select>', page, re.S).group(0)
        assert re.findall(r'<option value="([^"]*)" selected>', select) == [zone]
        assert select.count("<option ") == len(zoneinfo.available_timezones())


# Star membership and the sponsor slot.


@pytest.fixture
def sponsor(db):
    return Sponsor.objects.create(text="Union-made coffee", link="https://example.org/coffee")


def test_sponsor_slot_for_visitors_and_members_but_never_star(client, member_client, member, sponsor, long_thread):
    url = long_thread.forum.get_absolute_url()
    assert "Union-made coffee" in _text(client.get(url))
    assert "Union-made coffee" in _text(member_client.get(url))

    star_grant(member=member, months=1)

    assert "Union-made coffee" not in _text(member_client.get(url))
    assert "Union-made coffee" not in _text(member_client.get(long_thread.get_absolute_url()))


def test_sponsor_slot_respects_dates(client, sponsor, long_thread):
    Sponsor.objects.filter(pk=sponsor.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    assert "Union-made coffee" not in _text(client.get(long_thread.get_absolute_url()))


def test_redeem_a_code_on_the_star_page(member_client, member, sponsor, long_thread):
    code = code_batch_create(label="Gift", quantity=1, months=12).codes.get()
    page = _text(member_client.get(STAR_URL))
    assert "Become a Star Member" in page and "No ads" in page

    response = member_client.post(STAR_URL, {"code": code.code}, follow=True)

    assert "You are a Star Member until" in _text(response)
    member.refresh_from_db()
    assert member.is_star
    home = _text(member_client.get(reverse("forums:home")))
    assert "Become a Star Member" not in home and "Union-made coffee" not in home


@pytest.mark.parametrize("code, message", [
    ("NOPE-NOPE", "There is no Star code like that"),
    ("", "This field is required"),
    ("X" * 41, "at most 40 characters"),
])
def test_bad_codes_get_a_clear_message(member_client, member, code, message):
    response = member_client.post(STAR_URL, {"code": code})
    assert response.status_code == 400
    assert message in _text(response)


def test_suspended_member_sees_the_reason_when_redeeming(member_client, member):
    member_suspend(member=member, reason="Flooding", until=timezone.now() + timedelta(days=2))
    code = code_batch_create(label="x", quantity=1, months=1).codes.get()
    response = member_client.post(STAR_URL, {"code": code.code})
    assert response.status_code == 400
    assert "suspended until" in _text(response) and "Flooding" in _text(response)


# Profiles.


def test_profile_shows_star_badge_and_details(client, member):
    member_update(member=member, hometown="Duluth", country="USA", slogan="Organize!")
    star_grant(member=member, months=1)
    page = _text(client.get(member.get_absolute_url()))
    for text in ["Duluth", "USA", "Organize!", "Star Member", "img/avatar.svg"]:
        assert text in page


def test_a_deactivated_or_unknown_members_profile_is_not_found(client, member, other_member):
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert client.get(member.get_absolute_url()).status_code == 404
    assert client.get(reverse("members:member-detail", args=["nobody-by-this-name"])).status_code == 404
    # Their name, for once, in another member's place: each profile shows its own member.
    page = _text(client.get(other_member.get_absolute_url()))
    assert other_member.public_name in page and member.public_name not in page.split("<main", 1)[1]


def test_profile_escapes_member_text(client, member):
    member_update(member=member, slogan="<script>alert(1)</script>")
    page = _text(client.get(member.get_absolute_url()))
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_names_link_to_profiles_on_thread_pages(client, long_thread):
    page = _text(client.get(long_thread.get_absolute_url()))
    assert f'href="{long_thread.author.get_absolute_url()}"' in page


# Query counts.


@pytest.fixture
def prolific_member(forum):
    member = MemberFactory()
    others = MemberFactory.create_batch(3)
    for n in range(3):
        thread = ThreadFactory(forum=forum, author=member if n else others[n])
        for other in others:
            ReplyFactory(parent=thread.posts.get(number=0), author=other)
            ReplyFactory(parent=thread.posts.get(number=0), author=member)
    star_grant(member=member, months=1)
    member_update(member=member, jury_blacklist=others)
    return member


def test_profile_query_count(client, prolific_member, django_assert_num_queries):
    # header 3, member, recent posts with threads and forums, recently hidden posts
    with django_assert_num_queries(6):
        response = client.get(prolific_member.get_absolute_url())
    assert _text(response).count('class="badge">') >= 10


def test_settings_query_count(client, prolific_member, django_assert_num_queries):
    client.force_login(prolific_member)
    # session, member, header 3, jury blacklist, trashed threads, trashed forums, ignored,
    # chance to serve
    with django_assert_num_queries(10):
        response = client.get(SETTINGS_URL)
    assert response.status_code == 200


def test_star_page_query_count(member_client, member, django_assert_num_queries):
    with django_assert_num_queries(5):  # session, member, header 3
        response = member_client.get(STAR_URL)
    assert response.status_code == 200


def test_settings_undo_buttons_restore_and_stop_ignoring(member_client, member, forum, other_member):
    """Each trashed thread, trashed forum and ignored member on the settings page has its
    own button that undoes exactly that, and returns to the settings page."""
    from forums import services as forum_services

    thread = ThreadFactory(forum=forum)
    forum_services.thread_trash_set(member=member, thread=thread, trash=True)
    forum_services.forum_trash_set(member=member, forum=forum, trash=True)
    forum_services.member_ignore_set(member=member, other=other_member, ignore=True)
    page = _text(member_client.get(SETTINGS_URL))
    forms = [
        (match.group(1), match.group(2))
        for form in page.split("<form ")[1:]
        if (match := re.match(r'method="post" action="([^"]+)" class="inline-form">.*?name="(\w+)" value="0"', form, re.S))
    ]
    assert forms == [
        (reverse("forums:thread-trash", args=[thread.pk]), "trash"),
        (reverse("forums:forum-trash", args=[forum.slug]), "trash"),
        (reverse("forums:member-ignore", args=[other_member.username]), "ignore"),
    ]
    for action, field in forms:
        response = member_client.post(action, {field: "0", "next": SETTINGS_URL})
        assert response.status_code == 302 and response.url == SETTINGS_URL
    assert not member.trashed_threads.exists() and not member.trashed_forums.exists()
    assert not member.ignoring.exists()
