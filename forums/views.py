from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .forms import EditForm, ReplyForm, ThreadForm
from .models import Forum, ForumSubscription, Notification, Post, Section, Thread, ThreadSubscription
from .pagination import CountedPaginator, page_or_404
from .permissions import (
    PostingPaused,
    check_delete_permission,
    check_edit_permission,
    check_forum_post_permission,
    check_reply_permission,
)
from .rendering import quoted_paragraph_count, render_post
from .services import (
    forum_subscription_set,
    notifications_mark_read,
    post_delete,
    post_edit,
    reply_create,
    thread_create,
    thread_subscription_set,
)
from .tree import nest

EXCERPT_PARAGRAPHS = 4


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
    following = request.user.is_authenticated and ForumSubscription.objects.filter(
        member=request.user, forum=forum
    ).exists()
    return render(
        request, "forums/forum_detail.html", {"forum": forum, "page": page, "following": following}
    )


def _thread_or_redirect(pk, slug, url_name):
    thread = get_object_or_404(Thread.objects.for_detail(), pk=pk)
    if slug != thread.slug:
        return thread, HttpResponsePermanentRedirect(reverse(url_name, args=[thread.pk, thread.slug]))
    return thread, None


def _opening_post(thread):
    return Post.objects.select_related("author").get(thread=thread, number=0)


def _is_following(request, thread) -> bool:
    return request.user.is_authenticated and ThreadSubscription.objects.filter(
        member=request.user, thread=thread
    ).exists()


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
            "following": _is_following(request, thread),
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
        {
            "thread": thread,
            "opening_post": _opening_post(thread),
            "page": page,
            "following": _is_following(request, thread),
            **options,
        },
    )


# Writing: every view below authorises, binds a form, calls one service, redirects.


def _post_or_404(thread_pk, number):
    return get_object_or_404(
        Post.objects.select_related("thread__forum__section", "author"),
        thread_id=thread_pk,
        number=number,
    )


def _compose(request, form, *, save, template, context):
    """Shared shape of the posting views: "Preview" renders the text through the one
    pipeline without saving; "Post" calls `save(cleaned_data)`, whose refusals are
    shown next to the form."""
    preview = excerpt_warning = None
    status = 200
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_post(form.cleaned_data["body"])
        else:
            try:
                return redirect(save(form.cleaned_data))
            except ValidationError as refusal:
                form.add_error(None, refusal)
            except PostingPaused as pause:
                form.add_error(None, str(pause))
                status = 429
    if preview is not None:
        excerpt_warning = quoted_paragraph_count(preview) > EXCERPT_PARAGRAPHS
    if form.errors and status == 200:
        status = 400
    return render(
        request, template,
        {"form": form, "preview": preview, "excerpt_warning": excerpt_warning, **context},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def thread_create_view(request, slug):
    """"Post new thread" in a forum. Members who may post there."""
    forum = get_object_or_404(Forum.objects.select_related("section"), slug=slug)
    check_forum_post_permission(request.user, forum)
    return _compose(
        request, ThreadForm(request.POST or None),
        save=lambda data: thread_create(forum=forum, author=request.user, **data),
        template="forums/thread_form.html", context={"forum": forum},
    )


@login_required
@require_http_methods(["GET", "POST"])
def reply_create_view(request, pk, number):
    """"Reply" to the opening post or any reply; "Quote" starts with the quoted text."""
    parent = _post_or_404(pk, number)
    thread = parent.thread
    check_reply_permission(request.user, thread)
    initial = {}
    if request.GET.get("quote") and not parent.is_deleted:
        quoted = "\n".join(f"> {line}" if line else ">" for line in parent.body.splitlines())
        initial["body"] = f"> **{parent.author.public_name} wrote:**\n>\n{quoted}\n\n"
    return _compose(
        request, ReplyForm(request.POST or None, initial=initial),
        save=lambda data: reply_create(author=request.user, parent=parent, **data),
        template="forums/reply_form.html", context={"thread": thread, "parent": parent},
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_edit_view(request, pk, number):
    """Edit a post: its author within the edit window, staff at any time."""
    post = _post_or_404(pk, number)
    check_edit_permission(request.user, post)
    form = EditForm(request.POST or None, initial={"subject": post.subject, "body": post.body})
    return _compose(
        request, form,
        save=lambda data: post_edit(editor=request.user, post=post, **data),
        template="forums/post_edit.html", context={"thread": post.thread, "post": post},
    )


@login_required
@require_http_methods(["GET", "POST"])
def post_delete_view(request, pk, number):
    """Delete a post (its author or staff), after a confirmation page."""
    post = _post_or_404(pk, number)
    check_delete_permission(request.user, post)
    if request.method == "POST":
        post_delete(member=request.user, post=post)
        messages.success(request, _("The post was deleted."))
        return redirect(post.thread.get_absolute_url() if post.is_opening_post else post)
    return render(request, "forums/post_delete.html", {"thread": post.thread, "post": post})


def post_history(request, pk, number):
    """"Edit history": every earlier version of a post. Anyone who can read the thread."""
    post = _post_or_404(pk, number)
    if post.is_deleted:
        raise Http404(_("This post was deleted."))
    revisions = post.revisions.all()
    return render(
        request, "forums/post_history.html",
        {"thread": post.thread, "post": post, "revisions": revisions},
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
    if request.user.is_authenticated and request.user.layout == "flat":
        position = post.number - 1
    else:
        position = Post.objects.filter(
            thread_id=pk, parent__isnull=False, tree_path__lt=post.tree_path
        ).count()
    url = post.thread.get_view_all_url()
    page = position // per_page + 1
    return redirect(f"{url}{'?page=%d' % page if page > 1 else ''}#post-{post.number}")


@login_required
@require_POST
def thread_follow(request, pk):
    """Follow or stop following a thread (any member)."""
    thread = get_object_or_404(Thread, pk=pk)
    follow = thread_subscription_set(
        member=request.user, thread=thread, follow=request.POST.get("follow") == "1"
    )
    messages.success(
        request, _("You follow this thread.") if follow else _("You no longer follow this thread.")
    )
    return redirect(thread)


@login_required
@require_POST
def forum_follow(request, slug):
    """Follow or stop following a forum's new threads (any member)."""
    forum = get_object_or_404(Forum, slug=slug)
    follow = forum_subscription_set(
        member=request.user, forum=forum, follow=request.POST.get("follow") == "1"
    )
    messages.success(
        request, _("You follow this forum.") if follow else _("You no longer follow this forum.")
    )
    return redirect(forum)


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request):
    """The member's own notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        notifications_mark_read(member=request.user)
        return redirect("forums:notification-list")
    paginator = Paginator(
        Notification.objects.for_inbox(request.user), settings.FORUMS_NOTIFICATIONS_PER_PAGE
    )
    page = page_or_404(paginator, request.GET.get("page"))
    return render(request, "forums/notification_list.html", {"page": page})
