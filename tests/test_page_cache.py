"""Visitors' pages come from the cache, and any write shows at once."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from config.page_cache import site_version
from forums.models import Post


@pytest.fixture
def page_cache(settings):
    settings.FORUMS_PAGE_CACHE_SECONDS = 60
    cache.clear()


def test_visitor_page_is_served_from_cache_without_queries(client, thread, page_cache, django_assert_num_queries):
    first = client.get(thread.get_absolute_url())
    with django_assert_num_queries(0):
        second = client.get(thread.get_absolute_url())
    assert second.content == first.content and second.status_code == 200


def test_an_oversized_post_is_neither_cached_nor_served_from_the_cache(client, thread, page_cache):
    url = thread.get_absolute_url()
    client.get(url)  # now cached
    refused = client.post(url, {"padding": "x" * (1024 * 1024 + 1)})
    assert refused.status_code == 413 and "larger than 1 MB" in refused.content.decode()
    again = client.get(url)
    assert again.status_code == 200 and "larger than 1 MB" not in again.content.decode()


def test_a_new_reply_shows_at_once_for_visitors(client, member_client, thread, opening_post, page_cache):
    assert "Fresh reply text" not in client.get(thread.get_view_all_url()).content.decode()
    version = site_version()

    member_client.post(
        reverse("forums:reply-create", args=[thread.pk, 0]), {"body": "Fresh reply text", "post": "1"}
    )

    assert site_version() == version + 1
    assert "Fresh reply text" in client.get(thread.get_view_all_url()).content.decode()


def test_member_pages_are_never_cached(member_client, member, thread, page_cache, django_assert_max_num_queries):
    member_client.get(thread.get_absolute_url())
    with django_assert_max_num_queries(30) as captured:
        page = member_client.get(thread.get_absolute_url()).content.decode()
    assert len(captured) > 0 and member.public_name in page


def test_refused_posts_do_not_bump_the_version(client, opening_post, page_cache):
    version = site_version()
    client.post(reverse("forums:reply-create", args=[opening_post.thread_id, 0]), {"body": "x"})
    assert site_version() == version
    assert Post.objects.count() == 1


def test_conditional_get_returns_304(client, thread):
    first = client.get(thread.get_absolute_url())
    assert first.has_header("ETag")
    again = client.get(thread.get_absolute_url(), headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_site_texts_edited_in_the_admin_show_at_once(client, db, page_cache):
    from django.core.management import call_command

    from accounts.models import User
    from forums.models import Community

    call_command("load_seeds")
    assert "Welcome to DU!" in client.get("/").content.decode()
    staff = User.objects.create_superuser("admin", "a@example.org", "x" * 16)
    community = Community.objects.get()
    admin = client.__class__()
    admin.force_login(staff)
    admin.post(
        reverse("admin:forums_community_change", args=[community.pk]),
        {"name": "Our Town", "tagline": community.tagline, "welcome_title": "Welcome, neighbours!",
         "join_prompt": community.join_prompt, "support_prompt": community.support_prompt},
    )
    page = client.get("/").content.decode()
    assert "Welcome, neighbours!" in page and "Our Town" in page
