"""Reading aids: new-reply markers, mark read, recommendations, Latest, Greatest,
trash, ignore, About this forum, My posts and My subscriptions."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import member_update
from forums.models import (
    ForumRead,
    IgnoredMember,
    Notification,
    Post,
    Recommendation,
    Thread,
    ThreadVisit,
    TrashedForum,
)
from forums.services import (
    RECOMMEND_OWN,
    forum_subscription_set,
    forum_trash_set,
    member_ignore_set,
    recommendation_set,
    thread_subscription_set,
    thread_trash_set,
)
from tests.factories import ForumFactory, MemberFactory, ReplyFactory, ThreadFactory


def _text(response) -> str:
    return response.content.decode()


def _ago(**delta):
    return timezone.now() - timedelta(**delta)


def _age(post, **delta):
    Post.objects.filter(pk=post.pk).update(created_at=_ago(**delta))


# Read tracking.


def test_thread_list_shows_new_replies_since_last_visit(member_client, member, thread, opening_post):
    ReplyFactory(parent=opening_post)
    member_client.get(thread.get_absolute_url())  # the visit
    page = _text(member_client.get(thread.forum.get_absolute_url()))
    assert "badge-new" not in page

    ReplyFactory(parent=opening_post)
    ReplyFactory(parent=opening_post)

    page = _text(member_client.get(thread.forum.get_absolute_url()))
    assert "2 new" in page and "is-unread" in page
    visit = ThreadVisit.objects.get(member=member, thread=thread)
    assert visit.seen_reply_count == 1


def test_never_visited_thread_is_new(member_client, forum):
    ThreadFactory(forum=forum)
    assert '<span class="badge badge-new">New</span>' in _text(member_client.get(forum.get_absolute_url()))


def test_mark_forum_read_clears_markers_and_compacts_visits(member_client, member, thread, opening_post):
    ReplyFactory(parent=opening_post)
    member_client.get(thread.get_absolute_url())
    ReplyFactory(parent=opening_post)

    member_client.post(reverse("forums:forum-mark-read", args=[thread.forum.slug]))

    assert "badge-new" not in _text(member_client.get(thread.forum.get_absolute_url()))
    assert not ThreadVisit.objects.filter(member=member).exists()
    assert ForumRead.objects.filter(member=member, forum=thread.forum).count() == 1


def test_replies_after_a_forum_mark_are_counted(member_client, member, thread, opening_post):
    member_client.post(reverse("forums:forum-mark-read", args=[thread.forum.slug]))
    ReplyFactory(parent=opening_post)
    ReplyFactory(parent=opening_post)
    ReplyFactory(parent=opening_post)
    assert "3 new" in _text(member_client.get(thread.forum.get_absolute_url()))


def test_replies_since_each_forums_own_mark_are_counted_on_latest(member_client, member):
    early, late = ForumFactory(), ForumFactory()
    threads = {forum: ThreadFactory(forum=forum) for forum in (early, late)}
    for forum, thread in threads.items():
        Thread.objects.filter(pk=thread.pk).update(created_at=_ago(hours=3))
        for minutes in (50, 20, 5):
            _age(ReplyFactory(parent=thread.posts.get(number=0)), minutes=minutes)
    ForumRead.objects.create(member=member, forum=early, marked_at=_ago(hours=1))
    ForumRead.objects.create(member=member, forum=late, marked_at=_ago(minutes=30))

    page = _text(member_client.get(reverse("forums:latest")))

    counts = {
        forum: re.search(
            rf'href="[^"]*/t/{threads[forum].pk}/[^"]*">[^<]*</a> <span class="reply-count">[^<]*'
            r'<span class="badge badge-new">(\d+) new</span>', page,
        ).group(1)
        for forum in (early, late)
    }
    assert counts == {early: "3", late: "2"}


def test_thread_page_marks_replies_newer_than_the_mark(member_client, member, thread, opening_post):
    old = ReplyFactory(parent=opening_post, subject="Old news")
    member_client.post(reverse("forums:forum-mark-read", args=[thread.forum.slug]))
    ReplyFactory(parent=opening_post, subject="Fresh take")

    page = _text(member_client.get(thread.get_absolute_url()))

    assert "= new reply since forum marked as read" in page
    index = re.findall(r'<li id="index-(\d+)"[^>]*>\s*(<span class="new-marker")?', page)
    assert dict(index) == {str(old.number): "", "2": '<span class="new-marker"'}
    # The visit is recorded: on the next visit nothing is new.
    again = _text(member_client.get(thread.get_absolute_url()))
    assert not re.search(r'<li id="index-\d+"[^>]*>\s*<span class="new-marker"', again)


NEW_MARKER = '<span class="new-marker"'
LEGEND = "= new reply since forum marked as read"


def _marked_numbers(page: str) -> set[str]:
    """Numbers of the replies marked new, in the reply index and among full posts."""
    index = re.findall(r'<li id="index-(\d+)"[^>]*>\s*<span class="new-marker"', page)
    posts = re.findall(r'<article class="post[^"]*" id="post-(\d+)">(?:(?!</header>).)*?<span class="new-marker"', page, re.S)
    return set(index) | set(posts)


def test_a_visit_with_nothing_new_writes_nothing(member_client, member, thread, opening_post):
    ReplyFactory(parent=opening_post)
    member_client.get(thread.get_absolute_url())
    first = ThreadVisit.objects.get(member=member, thread=thread)

    # Reading it again, or its "View all", with no reply since: the same visit stands.
    for url in (thread.get_absolute_url(), thread.get_view_all_url()):
        with CaptureQueriesContext(connection) as queries:
            assert member_client.get(url).status_code == 200
        writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
        assert writes == [], url
    assert ThreadVisit.objects.get(member=member, thread=thread).visited_at == first.visited_at

    # A reply by someone else: marked on the next visit, which is recorded, so not after it.
    fresh = ReplyFactory(parent=opening_post)
    assert _marked_numbers(_text(member_client.get(thread.get_view_all_url()))) == {str(fresh.number)}
    visit = ThreadVisit.objects.get(member=member, thread=thread)
    assert visit.seen_reply_count == 2 and visit.visited_at > first.visited_at
    assert _marked_numbers(_text(member_client.get(thread.get_view_all_url()))) == set()


def test_own_new_reply_is_not_marked_new_to_its_author(member_client, member, thread, opening_post):
    member_client.get(thread.get_absolute_url())  # the visit before anyone answered
    response = member_client.post(
        reverse("forums:reply-create", args=[thread.pk, 0]), {"body": "My own answer", "post": "1"}
    )
    own = Post.objects.get(body="My own answer")
    # Where posting lands: the author's own reply on the "View all" page.
    landing = member_client.get(member_client.get(response["Location"])["Location"])
    assert f'id="post-{own.number}"' in _text(landing)
    assert _marked_numbers(_text(landing)) == set()
    assert LEGEND not in _text(landing)


def test_only_others_new_replies_are_marked(member_client, member, thread, opening_post):
    member_client.get(thread.get_absolute_url())
    own = ReplyFactory(parent=opening_post, author=member)
    theirs = ReplyFactory(parent=own)
    for url in (thread.get_absolute_url(), thread.get_view_all_url()):
        page = _text(member_client.get(url))
        assert _marked_numbers(page) == {str(theirs.number)}, url
        assert LEGEND in page
        ThreadVisit.objects.filter(member=member).update(visited_at=_ago(minutes=5))


def test_legend_shows_only_where_a_marker_shows(member_client, member, thread, opening_post):
    member_client.post(reverse("forums:forum-mark-read", args=[thread.forum.slug]))
    page = _text(member_client.get(thread.get_absolute_url()))  # no replies at all
    assert LEGEND not in page and NEW_MARKER not in page
    ReplyFactory(parent=opening_post)
    ThreadVisit.objects.filter(member=member).delete()
    assert LEGEND in _text(member_client.get(thread.get_view_all_url()))
    # Seen now: the same thread again has nothing new, so no legend either.
    assert LEGEND not in _text(member_client.get(thread.get_view_all_url()))


def test_mark_all_forums_read(member_client, member, forum):
    ThreadFactory(forum=forum)
    other = ThreadFactory()
    member_client.post(reverse("forums:all-forums-mark-read"))
    for url in [forum.get_absolute_url(), other.forum.get_absolute_url()]:
        assert "badge-new" not in _text(member_client.get(url))
    member.refresh_from_db()
    assert member.all_read_at is not None


def test_old_posts_count_as_read(member_client, forum, settings):
    thread = ThreadFactory(forum=forum)
    Thread.objects.filter(pk=thread.pk).update(
        created_at=_ago(days=40), last_activity_at=_ago(days=40)
    )
    assert "badge-new" not in _text(member_client.get(forum.get_absolute_url()))


def test_visitors_see_no_markers_and_leave_no_trace(client, thread):
    page = _text(client.get(thread.get_absolute_url()))
    assert "new reply since forum marked as read" not in page
    assert not ThreadVisit.objects.exists()


def test_mark_read_needs_a_member(client, forum):
    response = client.post(reverse("forums:forum-mark-read", args=[forum.slug]))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not ForumRead.objects.exists()


# Recommendations.


def test_recommend_once_and_undo(member_client, member, reply, thread):
    url = reverse("forums:post-recommend", args=[thread.pk, reply.number])
    member_client.post(url, {"recommend": "1"})
    member_client.post(url, {"recommend": "1"})
    reply.refresh_from_db()
    assert reply.recommendation_count == 1

    member_client.post(url, {"recommend": "0"})
    reply.refresh_from_db()
    assert reply.recommendation_count == 0 and not Recommendation.objects.exists()


def test_recommending_the_opening_post_counts_on_the_thread_and_lists_recommenders(client, thread, opening_post):
    fans = [MemberFactory(display_name=f"Fan {n}") for n in range(3)]
    for fan in fans:
        recommendation_set(member=fan, post=opening_post, recommend=True)

    thread.refresh_from_db()
    assert thread.recommendation_count == 3
    page = _text(client.get(thread.get_absolute_url()))
    assert "Recommended by" in page
    assert page.index("Fan 0") < page.index("Fan 1") < page.index("Fan 2")
    assert re.search(r'data-label="Recs">3<', _text(client.get(thread.forum.get_absolute_url())))


def _recommend_notifications(post):
    return Notification.objects.filter(post=post, kind=Notification.Kind.RECOMMEND)


def test_recommending_tells_the_author_once_per_recommender(
    client, member, other_member, reply, thread, django_capture_on_commit_callbacks
):
    url = reverse("forums:post-recommend", args=[thread.pk, reply.number])
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"recommend": "1"})
        client.post(url, {"recommend": "0"})  # taken back...
        client.post(url, {"recommend": "1"})  # ...and given again: no news
        recommendation_set(member=MemberFactory(display_name="Second Fan"), post=reply, recommend=True)

    notifications = list(_recommend_notifications(reply).order_by("pk"))
    assert [(n.recipient, n.actor.display_name) for n in notifications] == [
        (other_member, member.display_name), (other_member, "Second Fan"),
    ]
    other_member.refresh_from_db()
    assert other_member.unread_notification_count == 2
    # The author's notifications list, and email as they asked for it.
    client.force_login(other_member)
    page = _text(client.get(reverse("forums:notification-list")))
    assert f"{member.public_name}</a>\n      recommended your post:" in page
    assert reply.subject in page
    assert [message.to for message in mail.outbox] == [[other_member.email]] * 2
    assert "recommended your post" in mail.outbox[0].subject


def test_recommendation_notifications_follow_the_preference(client, member, other_member, reply):
    client.force_login(other_member)
    settings_page = _text(client.get(reverse("members:settings")))
    assert '<label for="id_notify_recommendations">Tell me when a member recommends my post</label>' in settings_page
    member_update(member=other_member, notify_recommendations=False)

    recommendation_set(member=member, post=reply, recommend=True)

    assert not _recommend_notifications(reply).exists()
    assert Post.objects.get(pk=reply.pk).recommendation_count == 1


def test_recommendation_email_follows_the_email_preference(
    member, other_member, reply, django_capture_on_commit_callbacks
):
    member_update(member=other_member, email_notifications=False)
    with django_capture_on_commit_callbacks(execute=True):
        recommendation_set(member=member, post=reply, recommend=True)
    assert _recommend_notifications(reply).count() == 1 and not mail.outbox


def test_cannot_recommend_own_post(member_client, member, opening_post, thread):
    response = member_client.post(
        reverse("forums:post-recommend", args=[thread.pk, 0]), {"recommend": "1"}, follow=True
    )
    assert RECOMMEND_OWN in _text(response)
    assert not Recommendation.objects.exists()
    assert not _recommend_notifications(opening_post).exists()


def test_visitors_cannot_recommend(client, opening_post, thread):
    response = client.post(reverse("forums:post-recommend", args=[thread.pk, 0]), {"recommend": "1"})
    assert response.status_code == 302 and not Recommendation.objects.exists()


# Latest and Greatest.


def test_latest_lists_newest_threads_site_wide(client, db):
    older = ThreadFactory(title="Older thread")
    ThreadFactory(title="Newer thread")
    Thread.objects.filter(pk=older.pk).update(created_at=_ago(hours=1))
    page = _text(client.get(reverse("forums:latest")))
    assert page.index("Newer thread") < page.index("Older thread")


def test_latest_counts_its_pages_without_what_the_member_hides(member_client, member, settings):
    """Latest's page count comes from the forums' counters: it must still leave out the
    threads the member trashed, those in forums they trashed and those of members they
    ignore, and count a thread that is several of these once."""
    settings.FORUMS_THREADS_PER_PAGE = 2
    kept_forum, trashed_forum = ForumFactory(), ForumFactory()
    ignored = MemberFactory()
    ThreadFactory.create_batch(3, forum=kept_forum)
    ThreadFactory.create_batch(2, forum=trashed_forum)
    trashed = ThreadFactory(forum=kept_forum)
    ThreadFactory.create_batch(2, forum=kept_forum, author=ignored)
    both = ThreadFactory(forum=kept_forum, author=ignored)
    ThreadFactory(forum=trashed_forum, author=ignored)
    forum_trash_set(member=member, forum=trashed_forum, trash=True)
    member_ignore_set(member=member, other=ignored, ignore=True)
    for thread in (trashed, both):
        thread_trash_set(member=member, thread=thread, trash=True)

    # 3 threads kept of 10, plus any the seeds or factories made elsewhere
    kept = Thread.objects.for_reader(member).count()
    pages = (kept + 1) // 2
    member_page = _text(member_client.get(reverse("forums:latest")))
    visitor_page = _text(Client().get(reverse("forums:latest")))

    assert f"Page 1 of {pages}" in member_page
    assert f"Page 1 of {(Thread.objects.count() + 1) // 2}" in visitor_page
    assert member_client.get(reverse("forums:latest"), {"page": pages}).status_code == 200
    assert member_client.get(reverse("forums:latest"), {"page": pages + 1}).status_code == 404


@pytest.mark.parametrize("current, other", [("latest", "greatest"), ("greatest", "latest")])
def test_latest_greatest_switch_marks_the_current_page(client, db, current, other):
    page = _text(client.get(reverse(f"forums:{current}")))
    switch = re.search(r'<nav class="view-switch"[^>]*>(.*?)</nav>', page, re.S).group(1)
    assert f'<a href="{reverse(f"forums:{current}")}" aria-current="page">' in switch
    assert f'<a href="{reverse(f"forums:{other}")}">' in switch
    assert switch.count("aria-current") == 1


def test_greatest_ranks_by_recent_recommendations(client, db):
    quiet, loved, old_favourite = (ThreadFactory(title=t) for t in ["Quiet", "Loved", "Old favourite"])
    fans = MemberFactory.create_batch(3)
    for fan in fans:
        recommendation_set(member=fan, post=loved.posts.get(number=0), recommend=True)
        recommendation_set(member=fan, post=old_favourite.posts.get(number=0), recommend=True)
    recommendation_set(member=fans[0], post=quiet.posts.get(number=0), recommend=True)
    Recommendation.objects.filter(post__thread=old_favourite).update(created_at=_ago(hours=25))

    page = _text(client.get(reverse("forums:greatest")))

    assert page.index("Loved") < page.index("Quiet")
    assert "Old favourite" not in page.split("<main")[1]


def test_greatest_ties_go_to_the_newer_thread(client, db):
    older, newer = ThreadFactory(title="Older tie"), ThreadFactory(title="Newer tie")
    Thread.objects.filter(pk=older.pk).update(created_at=_ago(hours=2))
    fan = MemberFactory()
    for thread in (older, newer):
        recommendation_set(member=fan, post=thread.posts.get(number=0), recommend=True)
    page = _text(client.get(reverse("forums:greatest")))
    assert page.index("Newer tie") < page.index("Older tie")


def test_greatest_counts_only_recommendations_of_the_opening_post(client, db):
    thread = ThreadFactory(title="Only its reply is loved")
    reply = ReplyFactory(parent=thread.posts.get(number=0))
    recommendation_set(member=MemberFactory(), post=reply, recommend=True)

    page = _text(client.get(reverse("forums:greatest")))

    assert "Only its reply is loved" not in page.split("<main")[1]


@pytest.mark.parametrize("name", ["forums:latest", "forums:greatest"])
def test_lists_paginate_and_reject_bad_pages(client, db, name):
    assert client.get(reverse(name), {"page": "abc"}).status_code == 404
    assert client.get(reverse(name)).status_code == 200


# Trash and ignore.


def test_trashed_thread_leaves_the_members_lists(member_client, member, forum):
    ThreadFactory(forum=forum, title="Kept one")
    trashed = ThreadFactory(forum=forum, title="Trashed one")
    member_client.post(reverse("forums:thread-trash", args=[trashed.pk]), {"trash": "1"})

    for url in [forum.get_absolute_url(), reverse("forums:latest"), reverse("forums:home")]:
        page = _text(member_client.get(url))
        assert "Kept one" in page and "Trashed one" not in page
    assert "Restore" in _text(member_client.get(reverse("members:settings")))

    member_client.post(reverse("forums:thread-trash", args=[trashed.pk]), {"trash": "0", "next": "/settings/"})
    assert "Trashed one" in _text(member_client.get(forum.get_absolute_url()))


def test_trashed_forum_leaves_lists_and_latest(member_client, member, forum):
    ThreadFactory(forum=forum, title="In the trashed forum")
    member_client.post(reverse("forums:forum-trash", args=[forum.slug]), {"trash": "1"})
    assert forum.name not in _text(member_client.get(reverse("forums:forum-index"))).split("<main")[1]
    assert "In the trashed forum" not in _text(member_client.get(reverse("forums:latest")))
    assert TrashedForum.objects.filter(member=member, forum=forum).exists()


def test_ignored_members_posts_collapse_with_a_way_to_show(member_client, member, thread, opening_post):
    troll = MemberFactory(display_name="Loud Troll")
    ReplyFactory(parent=opening_post, author=troll, body="Inflammatory words")
    member_client.post(reverse("forums:member-ignore", args=[troll.username]), {"ignore": "1"})

    page = _text(member_client.get(thread.get_view_all_url()))

    assert "You are ignoring Loud Troll" in page
    assert re.search(r"<details class=\"ignored-post\">\s*<summary>", page)
    assert IgnoredMember.objects.filter(member=member, ignored=troll).exists()
    troll_thread = ThreadFactory(author=troll, title="Troll thread")
    assert troll_thread.title not in _text(member_client.get(reverse("forums:latest")))


def test_cannot_ignore_yourself(member_client, member):
    member_client.post(reverse("forums:member-ignore", args=[member.username]), {"ignore": "1"})
    assert not IgnoredMember.objects.exists()


def test_next_parameter_cannot_redirect_off_site(member_client, thread):
    response = member_client.post(
        reverse("forums:thread-trash", args=[thread.pk]), {"trash": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == thread.forum.get_absolute_url()


# About this forum, My posts, My subscriptions.


def test_about_this_forum(client, forum, member, other_member):
    thread = ThreadFactory(forum=forum)
    old = ReplyFactory(parent=thread.posts.get(number=0))
    _age(old, days=31)
    forum.hosts.add(member)
    forum_subscription_set(member=other_member, forum=forum, follow=True)
    forum_trash_set(member=member, forum=forum, trash=True)
    from forums.models import ForumBlock

    ForumBlock.objects.create(forum=forum, member=other_member, reason="Spamming links")

    page = _text(client.get(reverse("forums:forum-about", args=[forum.slug])))

    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))
    assert facts["Posts in the last 30 days"] == "1" and facts["Posts in all"] == "2"
    assert facts["Subscribers"] == "1" and facts["Members trashing it"] == "1"
    assert member.public_name in page and "Spamming links" in page
    assert forum.purpose in page


def _facts(client, forum) -> dict:
    page = _text(client.get(reverse("forums:forum-about", args=[forum.slug])))
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))


def test_about_counts_the_last_30_days_in_old_and_new_threads(client, forum):
    """Only posts of the last 30 days count, whether their thread is new or was quiet
    for months before them, and a quiet thread's posts do not."""
    quiet = ThreadFactory(forum=forum)
    revived = ThreadFactory(forum=forum)
    for thread in (quiet, revived):
        _age(thread.posts.get(number=0), days=90)
        Thread.objects.filter(pk=thread.pk).update(created_at=_ago(days=90), last_activity_at=_ago(days=90))
    _age(ReplyFactory(parent=quiet.posts.get(number=0)), days=60)
    Thread.objects.filter(pk=quiet.pk).update(last_activity_at=_ago(days=60))
    ReplyFactory(parent=revived.posts.get(number=0))  # makes it active again
    ReplyFactory(parent=revived.posts.get(number=0))
    new = ThreadFactory(forum=forum)
    ReplyFactory(parent=new.posts.get(number=0))
    ThreadFactory()  # another forum's

    facts = _facts(client, forum)

    assert facts["Posts in the last 30 days"] == "4"  # two replies to the revived thread, the new one's two posts
    assert facts["Posts in all"] == "7" and facts["Threads"] == "3"


def test_about_query_count(client, django_assert_num_queries, forum):
    """Hosts, blocked members, followers and trashers, three or more of each, from
    different members: one query for the forum and its followers and trashers, one for
    its recent posts, one per list."""
    from forums.models import ForumBlock

    for _ in range(3):
        host, blocked, follower = MemberFactory(), MemberFactory(), MemberFactory()
        forum.hosts.add(host)
        ForumBlock.objects.create(forum=forum, member=blocked, reason="Off topic")
        forum_subscription_set(member=follower, forum=forum, follow=True)
        forum_trash_set(member=MemberFactory(), forum=forum, trash=True)
        ReplyFactory(parent=ThreadFactory(forum=forum, author=host).posts.get(number=0), author=follower)

    # header 3, sponsor, the forum with its followers and trashers, its recent posts,
    # hosts, blocked
    with django_assert_num_queries(8):
        facts = _facts(client, forum)

    assert facts["Subscribers"] == "3" and facts["Members trashing it"] == "3"
    assert facts["Posts in the last 30 days"] == "6" and facts["Threads"] == "3"


def test_my_posts_and_subscriptions(member_client, member, thread, other_member):
    followed_forum = ForumFactory(name="Followed Forum")
    forum_subscription_set(member=member, forum=followed_forum, follow=True)
    own_reply = ReplyFactory(parent=thread.posts.get(number=0), author=member, subject="My own reply")

    posts = _text(member_client.get(reverse("forums:my-posts")))
    subscriptions = _text(member_client.get(reverse("forums:my-subscriptions")))

    assert "My own reply" in posts and thread.title in posts
    assert thread.title in subscriptions and "Followed Forum" in subscriptions
    assert own_reply.get_absolute_url() in posts


def test_about_keeps_the_recent_count_until_the_forum_changes(
    client, member, forum, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """With pages cached, the count of the last 30 days is kept under the forum's
    versions: a member's next visit does not count again, a post elsewhere leaves it
    kept, and a post in the forum counts at once."""
    settings.FORUMS_PAGE_CACHE_SECONDS = 60
    thread, elsewhere = ThreadFactory(forum=forum), ThreadFactory()
    client.force_login(member)
    assert _facts(client, forum)["Posts in the last 30 days"] == "1"

    with django_capture_on_commit_callbacks(execute=True):
        ReplyFactory(parent=elsewhere.posts.get(number=0))
    with django_assert_num_queries(5):  # session, member, the forum, hosts, blocked
        assert _facts(client, forum)["Posts in the last 30 days"] == "1"

    with django_capture_on_commit_callbacks(execute=True):
        ReplyFactory(parent=thread.posts.get(number=0))
        ThreadFactory(forum=forum)
    assert _facts(client, forum)["Posts in the last 30 days"] == "3"


def test_my_posts_pages_and_query_count(member_client, member, settings, django_assert_num_queries):
    """Seven posts of the member's in three forums' threads started by others, three a
    page, newest first; others' replies in the same threads are not listed."""
    settings.FORUMS_THREADS_PER_PAGE = 3
    threads = [ThreadFactory(forum=ForumFactory(), author=MemberFactory()) for _ in range(3)]
    subjects = []
    for n in range(7):
        thread = threads[n % 3]
        ReplyFactory(parent=thread.posts.get(number=0), author=MemberFactory(), subject=f"Not mine {n}")
        ReplyFactory(parent=thread.posts.get(number=0), author=member, subject=f"Mine {n}")
        subjects.append(f"Mine {n}")

    member_client.get(reverse("forums:my-posts"))  # the header, kept once per version of what it shows
    pages = []
    for number in (1, 2, 3):
        with django_assert_num_queries(4):  # session, member, the count, the page's rows
            pages.append(_text(member_client.get(reverse("forums:my-posts"), {"page": number})))

    listed = [re.findall(r"(Mine \d|Not mine \d)", page) for page in pages]
    assert listed == [subjects[:-4:-1], subjects[-4:-7:-1], subjects[:1]]
    assert member_client.get(reverse("forums:my-posts"), {"page": 4}).status_code == 404


@pytest.mark.parametrize("name", ["forums:my-posts", "forums:my-subscriptions"])
def test_my_pages_need_a_member(client, db, name):
    assert client.get(reverse(name)).status_code == 302


# Query counts for a member with read markers, recommendations, trashed threads and
# ignored members in play, three or more of each.


@pytest.fixture
def busy_member(busy_forum):
    member = MemberFactory()
    threads = list(busy_forum.threads.order_by("-reply_count"))
    for thread in threads[:3]:
        ThreadVisit.objects.create(
            member=member, thread=thread, visited_at=_ago(minutes=5), seen_reply_count=thread.reply_count - 2
        )
    for thread in threads[5:8]:
        thread_trash_set(member=member, thread=thread, trash=True)
    for post in Post.objects.filter(thread=threads[0]).order_by("number")[:4]:
        recommendation_set(member=member, post=post, recommend=True)
    for other in MemberFactory.create_batch(3):
        ReplyFactory(parent=threads[0].posts.get(number=0), author=other)
        member_ignore_set(member=member, other=other, ignore=True)
    thread_subscription_set(member=member, thread=threads[0], follow=True)
    ForumRead.objects.create(member=member, forum=busy_forum, marked_at=_ago(minutes=30))
    # Threads started before the mark with replies after it: their new replies are counted.
    Thread.objects.filter(pk__in=[t.pk for t in threads[3:5]]).update(created_at=_ago(hours=2))
    return member


def test_forum_page_query_count_for_a_member(client, busy_member, busy_forum, django_assert_num_queries):
    client.force_login(busy_member)
    # session, member, header 3, sponsor, forum, threads, forum mark, visits and
    # following (one statement), new replies since the mark
    with django_assert_num_queries(10):
        response = client.get(busy_forum.get_absolute_url())
    assert response.status_code == 200


def test_thread_page_query_count_for_a_member(client, busy_member, busy_forum, django_assert_num_queries):
    thread = busy_forum.threads.order_by("-reply_count").first()
    client.force_login(busy_member)
    # session, member, header 3, sponsor, thread with its opening post and its forum's
    # host ids (for the Host badge), recommenders, index, the member's state in one
    # statement (forum mark, visit, following, trashed, ignored members,
    # recommendations), record visit
    with django_assert_num_queries(11):
        response = client.get(thread.get_absolute_url())
    assert response.status_code == 200


def test_view_all_query_count_for_a_member(client, busy_member, busy_forum, django_assert_num_queries):
    thread = busy_forum.threads.order_by("-reply_count").first()
    client.force_login(busy_member)
    # as the thread page, with one page of replies instead of the index
    with django_assert_num_queries(11):
        response = client.get(thread.get_view_all_url())
    assert _text(response).count("You are ignoring") >= 1


def test_latest_and_greatest_query_counts(client, busy_member, busy_forum, django_assert_num_queries):
    client.force_login(busy_member)
    # session, member, header 3, sponsor, count, page, forum marks and visits (one
    # statement; the threads started before the mark are not among the 30 newest, so
    # nothing is counted)
    with django_assert_num_queries(9):
        latest = client.get(reverse("forums:latest"))
    assert _text(latest).count('class="thread-title"') == 30
    # Greatest has no new-since-mark threads here: its threads are all recommended ones;
    # the header and the sponsor now come from the cache (4 queries fewer).
    with django_assert_num_queries(5):
        greatest = client.get(reverse("forums:greatest"))
    assert _text(greatest).count('class="thread-title"') == 1
