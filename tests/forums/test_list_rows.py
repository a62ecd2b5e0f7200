"""Forum lists built by forums.fragments: rows shared by every reader come from a cache
keyed by what they show, so a new post or a new name shows at once, and the "3 hours
ago" beside each last post is as fresh as the request."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.humanize.templatetags import humanize
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from forums.fragments import RelativeTimes
from forums.models import Forum
from forums.services import forum_trash_set
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory

pytestmark = pytest.mark.django_db


def _naturaltime_at(now, moment) -> str:
    """Django's own |naturaltime, as of `now`."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return now

    with mock.patch.object(humanize, "datetime", Clock):
        return humanize.naturaltime(moment)


@pytest.mark.parametrize("now", [
    datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC),
    datetime(2024, 2, 29, 0, 0, 0, 500, tzinfo=UTC),  # a leap day, just after midnight
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
])
def test_relative_times_say_what_naturaltime_says(now):
    spans = [timedelta(seconds=s) for s in (0.2, 1, 59, 60, 61, 3599, 3600, 7260, 86399, 86400)]
    spans += [timedelta(days=d, hours=h, minutes=m) for d in (1, 2, 6, 7, 13, 29, 30, 31, 45, 59, 364, 365,
                                                               366, 400, 800) for h, m in ((0, 0), (5, 7), (23, 59))]
    times = RelativeTimes(now=now)
    for span in spans:
        moment = now - span
        assert times(moment) == _naturaltime_at(now, moment), span
    # The same wording again comes from the page's own memory, still right.
    assert times(now - timedelta(days=3, minutes=1)) == _naturaltime_at(now, now - timedelta(days=3, minutes=2))


def test_relative_times_in_another_zone_say_the_same():
    now = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    moment = (now - timedelta(days=40, hours=3)).astimezone(timezone.get_fixed_timezone(-300))
    assert RelativeTimes(now=now)(moment) == _naturaltime_at(now, moment)


def _row(page: str, forum: Forum) -> str:
    start = page.index(f'href="{forum.get_absolute_url()}"')
    return page[start:page.index("</tr>", start)]


def test_all_forums_show_a_new_post_and_a_new_name_at_once(member_client):
    forum = ForumFactory()
    thread = ThreadFactory(forum=forum, title="The first thread")
    url = reverse("forums:forum-index")
    assert "The first thread" in _row(member_client.get(url).content.decode(), forum)
    ReplyFactory(parent=ThreadFactory(forum=forum, title="A newer thread").posts.get(number=0))
    row = _row(member_client.get(url).content.decode(), forum)
    assert "A newer thread" in row and ">2<" in row  # threads
    assert thread.title not in row
    Forum.objects.filter(pk=forum.pk).update(name="Renamed forum")
    assert "Renamed forum" in _row(member_client.get(url).content.decode(), forum)


def test_cached_rows_tell_the_time_of_each_request(member_client):
    forum = ForumFactory()
    ThreadFactory(forum=forum)
    url = reverse("forums:forum-index")
    assert "3\xa0days" not in _row(member_client.get(url).content.decode(), forum)
    later = datetime.now(UTC) + timedelta(days=3, hours=2)
    with mock.patch("forums.fragments.datetime") as clock:
        clock.now.return_value = later
        row = _row(member_client.get(url).content.decode(), forum)
    assert "3\xa0days, 2\xa0hours ago" in row


def test_a_forum_one_member_trashed_stays_listed_for_another(member_client, member):
    kept, trashed = ForumFactory(name="Kept forum"), ForumFactory(name="Trashed forum")
    url = reverse("forums:forum-index")
    client = Client()
    client.force_login(MemberFactory())
    assert "Trashed forum" in client.get(url).content.decode()
    forum_trash_set(member=member, forum=trashed, trash=True)
    page = member_client.get(url).content.decode()
    assert kept.name in page and "Trashed forum" not in page
    assert "Trashed forum" in client.get(url).content.decode()
