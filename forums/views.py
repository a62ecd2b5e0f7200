from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import UNKNOWN_MEMBERS
from accounts.standing import is_staff
from config import page_cache, ratelimit
from config.middleware import accepts_pictures
from config.submission import Submission

from .forms import EditForm, PollVoteForm, ReplyForm, SearchForm, ThreadForm
from .history import post_versions
from .models import Forum, Notification, Picture, Post, Section, Thread
from .pagination import CountedPaginator, number_or_404, page_or_404
from .querysets import (
    FORUM_LISTING_COLUMNS, SECTION_LISTING_COLUMNS, forum_for_page, forum_page_thread_rows,
    greatest_thread_count, greatest_thread_rows, latest_thread_count, latest_thread_rows, listed_forums,
    listed_sections, recent_post_count, thread_for_page, thread_reply_rows, trashed_forum_ids,
)
from .permissions import (
    POST_DELETED,
    can_create_poll,
    can_read_text,
    check_delete_permission,
    check_edit_permission,
    check_forum_post_permission,
    check_reply_permission,
)
from . import fragments, polls, services, view_counts
from .rendering import quoted_paragraph_count, render_post
from .search import SearchQueryError, UnknownAuthor, parse, results_page
from .reading import mark_new_replies, new_reply_rule, thread_page

EXCERPT_PARAGRAPHS = 4


def _kept_for_lists(name: str, make) -> tuple:
    """`make()`'s rows, which every reader of the lists across forums sees alike, and the
    versions they are kept under: as a thread's reply index, as long as visitors' pages
    are, under the versions of what they show (config.page_cache: the site's, for names,
    the lists', for last posts and counts), so that every write that changes them drops
    them. (None, None) while visitors' pages are not cached."""
    versions = page_cache.versions(page_cache.SITE, page_cache.LISTS)
    if versions is None:
        return None, None
    key = fragments.lists_key(name, versions, FORUM_LISTING_COLUMNS, SECTION_LISTING_COLUMNS)
    return fragments.kept_newest(name, key, settings.FORUMS_PAGE_CACHE_SECONDS, make), versions


def _not_trashed(user, forums) -> list:
    """Kept rows of every forum, without those the member trashed."""
    if not user.is_authenticated:
        return forums
    trashed = trashed_forum_ids(user.pk)
    return [forum for forum in forums if forum.pk not in trashed] if trashed else forums


def _featured_forums(user) -> list:
    kept, _versions = _kept_for_lists("featured-forums", lambda: listed_forums(None, featured=True))
    return listed_forums(user, featured=True) if kept is None else _not_trashed(user, kept)


@page_cache.visitor_page(page_cache.LISTS)
def home(request):
    """The front page: welcome text, featured forums and the newest threads."""
    latest = fragments.ThreadRow.list(latest_thread_rows(request.user, 0, settings.FORUMS_HOME_LATEST_THREADS))
    if request.user.is_authenticated:
        mark_new_replies(request.user, latest)
    return render(
        request,
        "forums/home.html",
        {
            "featured_forums": _featured_forums(request.user),
            "latest_threads": latest,
        },
    )


@page_cache.visitor_page(page_cache.LISTS)
def forum_index(request):
    """All Forums: the main forums, then every section with its forums. The forums'
    rows and the sections are kept for every reader (_kept_for_lists): a member's page
    then asks the database only which forums they trashed, not for each forum's last
    post, its thread and its author (115 forums at a million posts: PostgreSQL's CPU
    per page went from 3.3 to 0.7 ms, the worker's from 9.9 to 7.2 ms)."""
    kept, versions = _kept_for_lists("all-forums", lambda: (listed_forums(None), listed_sections()))
    if kept is None:
        forums, sections = listed_forums(request.user), listed_sections()
    else:
        forums, sections = _not_trashed(request.user, kept[0]), kept[1]
    by_section = {section.pk: [] for section in sections}
    main_forums = []
    for forum in forums:
        (by_section[forum.section_id] if forum.section_id else main_forums).append(forum)
    shown = [("main-forums", _("Main Forums"), main_forums, True)] + [
        (f"section-{section.slug}", section.name, by_section[section.pk], False) for section in sections
    ]
    return render(
        request, "forums/forum_index.html",
        {"sections": sections, "sections_html": fragments.forum_sections(
            shown, fragments.ForumRows(forums, purposes=False, named_by=versions)
        )},
    )


@page_cache.visitor_page(page_cache.LISTS)
def section_detail(request, slug):
    """One section ("Issue Forums", ...) and its forums."""
    section = get_object_or_404(Section, slug=slug)
    forums = Forum.objects.filter(section=section).for_reader(request.user).for_listing()
    return render(request, "forums/section_detail.html", {"section": section, "forums": forums})


@page_cache.visitor_page(page_cache.FORUM)
def forum_detail(request, slug):
    """A forum's thread list: pinned threads first, then by last activity; for members,
    which threads have new replies and how many."""
    member_id = request.user.pk if request.user.is_authenticated else None
    forum = forum_for_page(slug, member_id)
    if forum is None:
        raise Http404(_("No forum found."))
    # A member's list leaves out what they trashed or ignore: its pages are counted
    # without those threads too.
    listed = forum.thread_count if member_id is None else forum.listed_count
    paginator = CountedPaginator(
        lambda bottom, top: forum_page_thread_rows(forum.pk, request.user, bottom, top, count=listed),
        settings.FORUMS_THREADS_PER_PAGE, count=listed,
    )
    page = page_or_404(paginator, request.GET.get("page"))
    page.object_list = fragments.ThreadRow.list(page.object_list)
    following = False
    if request.user.is_authenticated:
        following = mark_new_replies(request.user, page.object_list, followed_forum_id=forum.pk)
    return render(
        request, "forums/forum_detail.html", {"forum": forum, "page": page, "following": following}
    )


@page_cache.visitor_page(page_cache.FORUM)
def forum_about(request, slug):
    """"About this forum": purpose, kind, activity, followers, hosts and blocked members."""
    forum = get_object_or_404(
        Forum.objects.select_related("section").with_about_counts(), slug=slug
    )
    return render(
        request,
        "forums/forum_about.html",
        {
            "forum": forum,
            "recent_post_count": recent_post_count(forum),
            "hosts": forum.hosts.order_by("username"),
            "blocked": forum.blocks.select_related("member").order_by("member__username"),
        },
    )


def _thread_list(request, rows_between, *, count: int, template, title, current):
    """A page of site-wide threads; `current` names the list, for the Latest · Greatest
    switch. `count` is how many there are, and `rows_between(bottom, top)` gives a
    page's rows (CountedPaginator)."""
    paginator = CountedPaginator(rows_between, settings.FORUMS_THREADS_PER_PAGE, count=count)
    page = page_or_404(paginator, request.GET.get("page"))
    page.object_list = fragments.ThreadRow.list(page.object_list)
    if request.user.is_authenticated:
        mark_new_replies(request.user, page.object_list)
    return render(request, template, {"page": page, "title": title, "current": current})


@page_cache.visitor_page(page_cache.LISTS)
def latest(request):
    """The newest threads site-wide, without what the reader trashed or ignores."""
    count = latest_thread_count(request.user)
    return _thread_list(
        request, lambda bottom, top: latest_thread_rows(request.user, bottom, top, count=count),
        template="forums/thread_list.html", title=_("Latest"), current="latest", count=count,
    )


@page_cache.visitor_page(page_cache.LISTS)
def greatest(request):
    """Threads with the most recommendations in the last 24 hours (ties: newest first)."""
    hours = settings.FORUMS_GREATEST_HOURS
    return _thread_list(
        request, lambda bottom, top: greatest_thread_rows(request.user, hours, bottom, top),
        template="forums/thread_list.html", title=_("Greatest"), current="greatest",
        count=greatest_thread_count(request.user, hours),
    )


def _thread_or_redirect(pk, slug, url_name):
    thread = thread_for_page(pk)
    if thread is None:
        raise Http404(_("No thread found."))
    if slug != thread.slug:
        return thread, HttpResponsePermanentRedirect(reverse(url_name, args=[thread.pk, thread.slug]))
    return thread, None


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


def _thread_page(request, thread, posts, options, *, show_parent=False, listed=None) -> dict:
    """What every thread page shows beside the posts (forums.reading.thread_page), with
    the opening post and `posts` assembled for this reader (forums.fragments), and
    `has_new` when any reply the page lists (`listed`, by default `posts`) is new to
    them; a member's visit is recorded after their "new" marks are worked out."""
    context = thread_page(request.user, thread, posts)
    # Nothing is new to a visitor, nor to a member before their first visit: then no
    # rule at all, so that the pages' 50 posts or 200 index lines are not each asked.
    is_new = context["is_new"] = new_reply_rule(request.user, context["new_after"]) if context["new_after"] else None
    context["has_new"] = is_new is not None and any(is_new(post) for post in (posts if listed is None else listed))
    renderer = fragments.PostRenderer(
        user=request.user, thread=thread, host_ids=context["host_ids"], new_after=context["new_after"],
        ignored_ids=context["ignored_ids"], my_recommendations=context["my_recommendations"],
        trashed=context["trashed"], recommenders=context["recommenders"], show_parent=show_parent,
    )
    opening_html, *reply_html = renderer.articles([context["opening_post"], *posts])
    context.update(
        opening_post_html=opening_html, action_form=fragments.ACTION_FORM,
        poll=polls.poll_page(thread, request.user, context["opening_post"]),
        reply_items=fragments.reply_items(
            posts, reply_html, flat=options["layout"] == "flat", highlight_after=options["highlight_after"]
        ),
    )
    if request.user.is_authenticated:
        services.thread_visit_record(
            member=request.user, thread=thread, seen_reply_count=context["seen_reply_count"]
        )
    return context


@view_counts.counted
@page_cache.visitor_page(page_cache.THREAD)
def thread_detail(request, pk, slug):
    """A thread, "Original post only": the opening post in full and the reply index."""
    thread, redirect = _thread_or_redirect(pk, slug, "forums:thread-detail")
    if redirect:
        return redirect
    options = _reading_options(request, thread)
    page, lines, markup = _reply_index_page(request, thread, options)
    context = _thread_page(request, thread, [], options, listed=lines)
    reply_index = fragments.reply_index(
        lines, markup, highlight_after=options["highlight_after"],
        is_new=context["is_new"], ignored_ids=context["ignored_ids"],
    )
    return render(
        request,
        "forums/thread_detail.html",
        {"index": lines, "reply_index": reply_index, "page": page, **options, **context},
    )


def _replies_paginator(
    thread, per_page: int, *, flat: bool, full_text: bool = False, unconverted: bool = False
) -> CountedPaginator:
    """The thread's replies in pages (forums.querysets.thread_reply_rows, which says what
    `full_text` and `unconverted` are), counted by its reply_count, which is exact: deep
    pages past the middle are found from the end."""
    return CountedPaginator(
        lambda bottom, top: thread_reply_rows(
            thread.pk, bottom, top, count=thread.reply_count, flat=flat, full_text=full_text,
            unconverted=unconverted,
        ),
        per_page, count=thread.reply_count,
    )


def _reply_index_page(request, thread, options):
    """The requested page of the thread's reply index, its lines and their markup
    (fragments.reply_index_lines). They are the same for every reader of a layout and
    page size, so they are kept: as long as visitors' pages are, under the thread's and
    the site's versions, so that a member's index of 200 lines costs two reads of the
    cache instead of its query and its markup; and under the rows they are made of, so
    that after a write (which moves the versions) the pages of the index it did not
    change, and every page while visitors' pages are not cached, cost the query but not
    the markup (a third of the page), nor making rows of what the database gave
    (config.prepared.Unconverted)."""
    flat = options["layout"] == "flat"
    # The index comes in pages too: a thread of thousands of replies would otherwise
    # be megabytes of links. Deep pages cost the same, an indexed range of one thread.
    paginator = _replies_paginator(thread, settings.FORUMS_INDEX_PER_PAGE, flat=flat, unconverted=True)
    number = number_or_404(paginator, request.GET.get("page"))
    versions = page_cache.versions(page_cache.SITE, page_cache.thread(thread.pk))
    key = versions and fragments.reply_index_key(thread.pk, versions, number, flat, options["per_page"])
    kept = fragments.kept_fragments([key], settings.FORUMS_PAGE_CACHE_SECONDS).get(key) if key else None
    if kept is not None:
        return paginator.page_without_rows(number), *kept
    page = paginator.page(number)
    kept = fragments.reply_index_page_lines(
        page.object_list, start=page.start_index(), flat=flat, per_page=options["per_page"],
        view_all_url=thread.get_view_all_url(),
    )
    if key:
        fragments.keep_fragments({key: kept}, settings.FORUMS_PAGE_CACHE_SECONDS)
    return page, *kept


@view_counts.counted
@page_cache.visitor_page(page_cache.THREAD)
def thread_all(request, pk, slug):
    """A thread, "View all": the opening post and every reply in full, in tree order."""
    thread, redirect = _thread_or_redirect(pk, slug, "forums:thread-all")
    if redirect:
        return redirect
    options = _reading_options(request, thread)
    flat = options["layout"] == "flat"
    paginator = _replies_paginator(thread, options["per_page"], flat=flat, full_text=True)
    page = page_or_404(paginator, request.GET.get("page"))
    posts = list(page.object_list)
    return render(
        request,
        "forums/thread_all.html",
        {"page": page, **options, **_thread_page(request, thread, posts, options, show_parent=True)},
    )


# Writing: every view below authorises, binds a form, calls one service, redirects.


def _post_or_404(thread_pk, number):
    return get_object_or_404(
        Post.objects.select_related("thread__forum__section", "author"),
        thread_id=thread_pk,
        number=number,
    )


def _preview(sub) -> dict:
    """"Preview" renders the text through the one pipeline without saving, and warns when
    it quotes more than an excerpt."""
    if not sub.previewing:
        return {"preview": None, "excerpt_warning": None}
    preview = render_post(sub.form.cleaned_data["body"])
    return {"preview": preview, "excerpt_warning": quoted_paragraph_count(preview) > EXCERPT_PARAGRAPHS}


def with_pictures(request, sub) -> dict:
    """What a compose form sends to its service: its fields, once the pictures sent with
    them are stored (on "Preview" too: a browser sends a file only once) and the text
    points at them and at pictures sent before. A refused picture stops the sending
    and shows on the form."""
    data = dict(sub.form.cleaned_data) if sub.sending or sub.previewing else {}
    files = data.pop("pictures", None)
    if files or services.mentions_pictures_by_name(data.get("body", "")):
        with sub.refusals():
            data["body"] = services.pictures_upload(
                owner=request.user, files=files, body=data["body"], require_placed=sub.sending
            )
            # The form shows the text as it now is, pointing at the stored pictures.
            sub.form.cleaned_data["body"] = data["body"]
            sub.form.data = sub.form.data.copy()
            sub.form.data["body"] = data["body"]
            return data
        sub.sending = sub.previewing = False
    return data


def compose_context(request, context: dict) -> dict:
    """What every compose page shows besides its form: the member's pictures waiting
    to be placed (a query run by the template, only on these pages)."""
    return {**context, "pending_pictures": Picture.objects.for_compose(request.user)[:PENDING_SHOWN]}


PENDING_SHOWN = 20


@login_required
@require_http_methods(["GET", "POST"])
@accepts_pictures
def thread_create(request, slug):
    """"Post new thread" in a forum. Members who may post there."""
    forum = get_object_or_404(Forum.objects.select_related("section"), slug=slug)
    check_forum_post_permission(request.user, forum)
    form = ThreadForm(
        request.POST or None, request.FILES or None, with_poll=can_create_poll(request.user)
    )
    sub = Submission(request, form, limit="post")
    data = with_pictures(request, sub)
    if sub.sending:
        with sub.refusals():
            thread = services.thread_create(forum=forum, author=request.user, **data)
            return redirect(thread)
    return sub.render("forums/thread_form.html", compose_context(request, {"forum": forum, **_preview(sub)}))


@login_required
@require_http_methods(["GET", "POST"])
@accepts_pictures
def reply_create(request, pk, number):
    """"Reply" to the opening post or any reply; "Quote" starts with the quoted text."""
    parent = _post_or_404(pk, number)
    thread = parent.thread
    check_reply_permission(request.user, thread)
    initial = {}
    if request.GET.get("quote") and can_read_text(request.user, parent):
        quoted = "\n".join(f"> {line}" if line else ">" for line in parent.body.splitlines())
        initial["body"] = f"> **{parent.author.public_name} wrote:**\n>\n{quoted}\n\n"
    form = ReplyForm(request.POST or None, request.FILES or None, initial=initial)
    sub = Submission(request, form, limit="post")
    data = with_pictures(request, sub)
    if sub.sending:
        with sub.refusals():
            reply = services.reply_create(author=request.user, parent=parent, **data)
            return redirect(reply)
    return sub.render(
        "forums/reply_form.html",
        compose_context(request, {"thread": thread, "parent": parent, **_preview(sub)}),
    )


@login_required
@require_http_methods(["GET", "POST"])
@accepts_pictures
def post_edit(request, pk, number):
    """Edit a post: its author within the edit window, staff at any time."""
    post = _post_or_404(pk, number)
    check_edit_permission(request.user, post)
    form = EditForm(
        request.POST or None, request.FILES or None, initial={"subject": post.subject, "body": post.body}
    )
    sub = Submission(request, form)
    data = with_pictures(request, sub)
    if sub.sending:
        with sub.refusals():
            edited = services.post_edit(editor=request.user, post=post, **data)
            return redirect(edited)
    return sub.render(
        "forums/post_edit.html",
        compose_context(request, {"thread": post.thread, "post": post, **_preview(sub)}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_delete(request, pk, number):
    """Delete a post (its author or staff), after a confirmation page."""
    post = _post_or_404(pk, number)
    check_delete_permission(request.user, post)
    if request.method == "POST":
        services.post_delete(member=request.user, post=post)
        messages.success(request, _("The post was deleted."))
        return redirect(post.thread.get_absolute_url() if post.is_opening_post else post)
    return render(request, "forums/post_delete.html", {"thread": post.thread, "post": post})


@page_cache.visitor_page(page_cache.THREAD)
def post_history(request, pk, number):
    """"Edit history": every version of a post with its changes from the one before.
    Anyone who can read the thread; a hidden post's history, like its text, only staff."""
    post = _post_or_404(pk, number)
    if not can_read_text(request.user, post):
        raise Http404(_(POST_DELETED) if post.is_deleted else _("This post was hidden."))
    versions = post_versions(post, post.revisions.all())
    page_cache.shows(page_cache.member(post.author_id))
    return render(
        request, "forums/post_history.html",
        {"thread": post.thread, "post": post, "versions": versions},
    )


def post_jump(request, pk, number):
    """Redirect to the "View all" page that holds reply `number`."""
    post = get_object_or_404(
        Post.objects.select_related("thread").only(
            "number", "tree_path", "thread__slug", "thread__id"
        ),
        thread_id=pk, number=number,
    )
    per_page = _reading_options(request, post.thread)["per_page"]
    flat = request.user.is_authenticated and request.user.layout == "flat"
    page = Post.objects.replies_before(post, flat=flat) // per_page + 1
    url = post.thread.get_view_all_url()
    return redirect(f"{url}{'?page=%d' % page if page > 1 else ''}#post-{post.number}")


@login_required
@require_http_methods(["GET", "POST"])
def poll_vote(request, pk):
    """Vote in a thread's poll, or change one's vote where the poll allows it. Members
    in good standing. Thread pages post here; this page shows the poll alone, with the
    reason when a vote is refused."""
    thread = get_object_or_404(Thread.objects.for_detail(), pk=pk, has_poll=True)
    # A POST with nothing ticked is a vote for nothing, to refuse, not a request for the page.
    data = request.POST if request.method == "POST" else None
    sub = Submission(request, PollVoteForm(data, thread=thread))
    if sub.sending:
        with sub.refusals(denied_on=NON_FIELD_ERRORS):
            polls.poll_vote(member=request.user, thread=thread, options=sub.form.cleaned_data["option"])
            messages.success(request, _("Thank you: your vote is counted."))
            return _back(request, f"{thread.get_absolute_url()}#poll")
    opening_post = Post.objects.filter(thread=thread, number=0).only("is_deleted", "is_hidden").get()
    return sub.render(
        "forums/poll_vote.html",
        {"thread": thread, "poll": polls.poll_page(thread, request.user, opening_post)},
    )


@login_required
@require_POST
def thread_follow(request, pk):
    """Follow or stop following a thread (any member)."""
    thread = get_object_or_404(Thread, pk=pk)
    follow = services.thread_subscription_set(member=request.user, thread=thread, follow=_yes(request, "follow"))
    _say_switched(request, follow, _("You follow this thread."), _("You no longer follow this thread."))
    return redirect(thread)


@login_required
@require_POST
def forum_follow(request, slug):
    """Follow or stop following a forum's new threads (any member)."""
    forum = get_object_or_404(Forum, slug=slug)
    follow = services.forum_subscription_set(member=request.user, forum=forum, follow=_yes(request, "follow"))
    _say_switched(request, follow, _("You follow this forum."), _("You no longer follow this forum."))
    return redirect(forum)


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request):
    """The member's own notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        services.notifications_mark_read(member=request.user)
        return redirect("forums:notification-list")
    paginator = Paginator(
        Notification.objects.for_inbox(request.user), settings.FORUMS_NOTIFICATIONS_PER_PAGE
    )
    page = page_or_404(paginator, request.GET.get("page"))
    return render(request, "forums/notification_list.html", {"page": page})


def _back(request, fallback, *, post=None):
    """Return to the page the form was on (only ever on this site); given the `post` the
    form acted on, to that post when the page is one of its thread's."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        thread_prefix = reverse("forums:thread-short", args=[post.thread_id]) if post else None
        if thread_prefix and target.startswith(thread_prefix) and "#" not in target:
            target += f"#post-{post.number}"
        return redirect(target)
    return redirect(fallback)


def _yes(request, name) -> bool:
    return request.POST.get(name) == "1"


def _say_switched(request, on: bool, said_on: str, said_off: str) -> None:
    """Confirm a member's own switch (follow, trash): what it is now, not what was clicked."""
    messages.success(request, said_on if on else said_off)


@login_required
@require_POST
def post_recommend(request, pk, number):
    """Recommend a post, or take the recommendation back (members, not their own posts)."""
    post = _post_or_404(pk, number)
    try:
        services.recommendation_set(member=request.user, post=post, recommend=_yes(request, "recommend"))
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    return _back(request, post.get_absolute_url(), post=post)


@login_required
@require_POST
def thread_trash(request, pk):
    """"Trash thread": hide it from this member's lists (or restore it)."""
    thread = get_object_or_404(Thread.objects.select_related("forum"), pk=pk)
    trashed = services.thread_trash_set(member=request.user, thread=thread, trash=_yes(request, "trash"))
    _say_switched(request, trashed, _("Thread trashed: it no longer shows in your lists."), _("Thread restored."))
    return _back(request, thread.forum.get_absolute_url())


@login_required
@require_POST
def forum_trash(request, slug):
    """Trash a forum: hide it and its threads from this member's lists (or restore it)."""
    forum = get_object_or_404(Forum, slug=slug)
    trashed = services.forum_trash_set(member=request.user, forum=forum, trash=_yes(request, "trash"))
    _say_switched(request, trashed, _("Forum trashed: it no longer shows in your lists."), _("Forum restored."))
    return _back(request, reverse("forums:forum-index"))


@login_required
@require_POST
def member_ignore(request, username):
    """"Ignore" a member: collapse their posts for me (or stop ignoring)."""
    other = get_object_or_404(get_user_model(), username=username)
    try:
        ignoring = services.member_ignore_set(member=request.user, other=other, ignore=_yes(request, "ignore"))
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(
            request,
            (_("You are ignoring %(name)s.") if ignoring else _("You no longer ignore %(name)s."))
            % {"name": other.public_name},
        )
    return _back(request, other.get_absolute_url())


@login_required
@require_POST
def forum_mark_read(request, slug):
    """"Mark forum read": everything there until now counts as read for me."""
    forum = get_object_or_404(Forum, slug=slug)
    services.forum_mark_read(member=request.user, forum=forum)
    messages.success(request, _("%(forum)s is marked read.") % {"forum": forum.name})
    return redirect(forum)


@login_required
@require_POST
def all_forums_mark_read(request):
    """"Mark all forums read"."""
    services.all_forums_mark_read(member=request.user)
    messages.success(request, _("All forums are marked read."))
    return redirect("forums:forum-index")


@login_required
def my_posts(request):
    """"My posts": the member's own threads and replies, newest first."""
    posts = Post.objects.for_profile(request.user)
    # Counted by the author's index alone: through the joins the rows need, SQLite read
    # every post's row (6 ms for a member of 500 posts on the 1,000,000-post bench).
    paginator = CountedPaginator(
        lambda bottom, top: posts[bottom:top], settings.FORUMS_THREADS_PER_PAGE,
        count=Post.objects.filter(author=request.user).count(),
    )
    page = page_or_404(paginator, request.GET.get("page"))
    return render(request, "forums/my_posts.html", {"page": page})


@login_required
def my_subscriptions(request):
    """"My subscriptions": the threads and forums the member follows."""
    threads = fragments.ThreadRow.list(
        Thread.objects.filter(subscriptions__member=request.user).order_by("-last_activity_at").rows()
    )
    mark_new_replies(request.user, threads)
    forums = Forum.objects.filter(subscriptions__member=request.user).for_listing()
    return render(request, "forums/my_subscriptions.html", {"threads": threads, "forums": forums})


@page_cache.visitor_page(page_cache.POSTS)
def search(request):
    """Full-text search of thread titles and post bodies, with filters. Hidden and
    deleted posts are found only by staff."""
    form = SearchForm(request.GET or None)
    page = terms = limited = None
    if form.is_bound and form.is_valid() and form.cleaned_data["q"]:
        try:
            ratelimit.consume(request, "search")
            terms = parse(form.cleaned_data["q"])
            page = results_page(
                terms, form.cleaned_data, include_hidden=is_staff(request.user),
                page_number=request.GET.get("page"),
            )
        except ratelimit.RateLimited as refusal:
            limited = refusal
            form.add_error(None, str(refusal))
        except SearchQueryError as refusal:
            form.add_error("q", _(str(refusal)))
        except UnknownAuthor as unknown:
            form.add_error("author", _(UNKNOWN_MEMBERS).format(names=str(unknown)))
    response = render(
        request, "forums/search.html", {"form": form, "page": page, "terms": terms},
        status=429 if limited else 400 if form.errors else 200,
    )
    return ratelimit.with_retry_after(response, limited)
