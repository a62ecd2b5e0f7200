"""Visitors' pages come from the cache, and any write shows at once (which pages a
write drops: tests/test_page_cache_scopes.py)."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from config.page_cache import HEADER, site_version
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


def test_a_new_reply_shows_at_once_for_visitors(
    member_client, thread, opening_post, page_cache, django_capture_on_commit_callbacks
):
    visitor = Client()
    assert "Fresh reply text" not in visitor.get(thread.get_view_all_url()).content.decode()
    assert visitor.get(thread.get_view_all_url())[HEADER] == "hit"
    version = site_version()

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            reverse("forums:reply-create", args=[thread.pk, 0]), {"body": "Fresh reply text", "post": "1"}
        )

    # The thread's pages go, not the whole site's.
    assert site_version() == version
    assert "Fresh reply text" in visitor.get(thread.get_view_all_url()).content.decode()


def test_member_pages_are_never_cached(member_client, member, thread, page_cache, django_assert_max_num_queries):
    member_client.get(thread.get_absolute_url())
    with django_assert_max_num_queries(30) as captured:
        page = member_client.get(thread.get_absolute_url()).content.decode()
    assert len(captured) > 0 and member.public_name in page


def test_refused_posts_do_not_bump_the_version(client, opening_post, page_cache, django_capture_on_commit_callbacks):
    url = opening_post.thread.get_view_all_url()
    client.get(url)
    version = site_version()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("forums:reply-create", args=[opening_post.thread_id, 0]), {"body": "x"})
    assert site_version() == version
    assert Post.objects.count() == 1
    assert client.get(url)[HEADER] == "hit"


def test_conditional_get_returns_304(client, thread):
    first = client.get(thread.get_absolute_url())
    assert first.has_header("ETag")
    again = client.get(thread.get_absolute_url(), headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_a_page_with_a_csrf_token_gets_no_etag_and_never_a_304(member_client, thread):
    # Its token is masked anew each time, so the page is never the same twice.
    first = member_client.get(thread.get_absolute_url())
    assert 'name="csrfmiddlewaretoken"' in first.content.decode() and not first.has_header("ETag")
    again = member_client.get(thread.get_absolute_url(), headers={"if-none-match": '"anything"'})
    assert again.status_code == 200 and again.content != first.content


def test_site_texts_edited_in_the_admin_show_at_once(client, db, page_cache, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    from accounts.models import User
    from forums.models import Community

    call_command("load_seeds")
    assert "Welcome to DU!" in client.get("/").content.decode()
    staff = User.objects.create_superuser("admin", "a@example.org", "x" * 16)
    community = Community.objects.get()
    admin = client.__class__()
    admin.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            reverse("admin:forums_community_change", args=[community.pk]),
            {"name": "Our Town", "tagline": community.tagline, "welcome_title": "Welcome, neighbours!",
             "join_prompt": community.join_prompt, "support_prompt": community.support_prompt},
        )
    page = client.get("/").content.decode()
    assert "Welcome, neighbours!" in page and "Our Town" in page
