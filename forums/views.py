from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from .models import Forum, Post, Section, Thread
from .pagination import CountedPaginator, page_or_404
from .tree import nest


def home(request):
    """The front page: welcome text, featured forums and the newest threads."""
    return render(
        request,
        "forums/home.html",
        {
            "featured_forums": Forum.objects.featured().for_listing(),
            "latest_threads": Thread.objects.for_latest()[: settings.FORUMS_HOME_LATEST_THREADS],
        },
    )


def forum_index(request):
    """All Forums: the main forums, then every section with its forums."""
    forums = list(Forum.objects.for_listing())
    sections = list(Section.objects.all())
    by_section = {section.pk: [] for section in sections}
    main_forums = []
    for forum in forums:
        (by_section[forum.section_id] if forum.section_id else main_forums).append(forum)
    groups = [(section, by_section[section.pk]) for section in sections]
    return render(
        request, "forums/forum_index.html", {"main_forums": main_forums, "groups": groups}
    )


def section_detail(request, slug):
    """One section ("Issue Forums", ...) and its forums."""
    section = get_object_or_404(Section, slug=slug)
    forums = Forum.objects.filter(section=section).for_listing()
    return render(request, "forums/section_detail.html", {"section": section, "forums": forums})


def forum_detail(request, slug):
    """A forum's thread list: pinned threads first, then by last activity."""
    forum = get_object_or_404(Forum.objects.select_related("section"), slug=slug)
    paginator = CountedPaginator(
        Thread.objects.for_forum_page(forum),
        settings.FORUMS_THREADS_PER_PAGE,
        count=forum.thread_count,
    )
    page = page_or_404(paginator, request.GET.get("page"))
    return render(request, "forums/forum_detail.html", {"forum": forum, "page": page})


def _thread_or_redirect(pk, slug, url_name):
    thread = get_object_or_404(Thread.objects.for_detail(), pk=pk)
    if slug != thread.slug:
        return thread, HttpResponsePermanentRedirect(reverse(url_name, args=[thread.pk, thread.slug]))
    return thread, None


def _opening_post(thread):
    return Post.objects.select_related("author").get(thread=thread, number=0)


HIGHLIGHT_NEWEST = 5


def _reading_options(request, thread) -> dict:
    """How this reader reads threads: their preferences, or the query string for visitors
    (and for anyone overriding the highlight on one page)."""
    user = request.user
    member = user if user.is_authenticated else None
    highlight = request.GET.get("highlight") or (member.highlight if member else "none")
    if highlight not in {"none", "newest"}:
        highlight = "none"
    return {
        "highlight": highlight,
        # Replies are numbered in posting order, so the newest five are simply the
        # five highest numbers: no query needed.
        "highlight_after": thread.reply_count - HIGHLIGHT_NEWEST if highlight == "newest" else None,
        "layout": member.layout if member else "threaded",
        "per_page": member.replies_per_page if member else settings.FORUMS_REPLIES_PER_PAGE,
    }


def thread_detail(request, pk, slug):
    """A thread, "Original post only": the opening post in full and the reply index."""
    thread, redirect = _thread_or_redirect(pk, slug, "forums:thread-detail")
    if redirect:
        return redirect
    options = _reading_options(request, thread)
    replies = Post.objects.for_reply_index(thread)
    flat = options["layout"] == "flat"
    if flat:
        replies = replies.order_by("number")
    index, index_tail = nest(replies, flat=flat)
    for item in index:
        item.page = item.position // options["per_page"] + 1
    return render(
        request,
        "forums/thread_detail.html",
        {
            "thread": thread,
            "opening_post": _opening_post(thread),
            "index": index,
            "index_tail": index_tail,
            **options,
        },
    )


def thread_all(request, pk, slug):
    """A thread, "View all": the opening post and every reply in full, in tree order."""
    thread, redirect = _thread_or_redirect(pk, slug, "forums:thread-all")
    if redirect:
        return redirect
    options = _reading_options(request, thread)
    replies = Post.objects.for_full_text(thread)
    if options["layout"] == "flat":
        replies = replies.order_by("number")
    paginator = CountedPaginator(replies, options["per_page"], count=thread.reply_count)
    page = page_or_404(paginator, request.GET.get("page"))
    return render(
        request,
        "forums/thread_all.html",
        {"thread": thread, "opening_post": _opening_post(thread), "page": page, **options},
    )
