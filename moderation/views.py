from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config import page_cache, ratelimit
from config.submission import Submission
from forums.models import Forum, Post, Thread
from forums.pagination import page_or_404
from accounts.standing import check_active_member, is_staff

from .forms import AlertForm, AppealForm, MemberActionForm, MoveForm, ReasonForm, VoteForm
from .models import Appeal, Jury, JurySeat, ModerationAction
from .permissions import check_moderate_permission, check_staff_permission
from . import services


# The log names posts and threads by their current subject and title, and whether
# they are still visible: any post's change may show here.
@page_cache.visitor_page(page_cache.MODERATION_LOG, page_cache.POSTS)
def moderation_log(request):
    """The public moderation log: every action, by whom (jury, host or staff) and why."""
    actions = ModerationAction.objects.select_related("actor", "member", "forum", "thread", "post")
    page = page_or_404(
        Paginator(actions, settings.FORUMS_MODERATION_LOG_PER_PAGE), request.GET.get("page")
    )
    return render(request, "moderation/log.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def alert_create(request, pk, number):
    """"Alert": tell the community a post breaks a rule. Members, not on their own posts."""
    post = get_object_or_404(
        Post.objects.select_related("thread__forum", "author"), thread_id=pk, number=number
    )
    check_active_member(request.user)
    form = AlertForm(request.POST or None)
    limited = None
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.consume(request, "alert")
            services.alert_create(alerter=request.user, post=post, **form.cleaned_data)
        except ratelimit.RateLimited as refusal:
            limited = refusal
            form.add_error(None, str(refusal))
        except ValidationError as refusal:
            form.add_error(None, refusal)
        else:
            messages.success(request, _("Thank you. A jury of members will look at this post."))
            return redirect(post.get_absolute_url())
    response = render(
        request, "moderation/alert_form.html", {"form": form, "post": post, "thread": post.thread},
        status=429 if limited else 400 if form.errors else 200,
    )
    return ratelimit.with_retry_after(response, limited)


@login_required
@require_http_methods(["GET", "POST"])
def jury_detail(request, pk):
    """A juror's page: the post, its context, the rule, the alerter's comment, the vote.
    Only members seated on this jury see it."""
    juries = Jury.objects.select_related(
        "alert__rule", "post__thread__forum", "post__author", "post__parent__author"
    )
    jury = get_object_or_404(juries, pk=pk)
    # Deadlines first, so what the page shows is already up to date.
    if services.jury_enforce_deadlines(jury=jury):
        jury = juries.get(pk=pk)
    seat = JurySeat.objects.filter(jury=jury, juror=request.user, is_replaced=False).first()
    if seat is None:
        raise Http404(_(services.NOT_A_JUROR))
    sub = Submission(request, VoteForm(request.POST or None))
    if sub.sending:
        with sub.refusals():
            services.jury_vote(juror=request.user, jury=jury, **sub.form.cleaned_data)
            messages.success(request, _("Thank you for serving. Your answer is recorded."))
            return redirect("moderation:jury-detail", pk=jury.pk)
    post = jury.post
    return sub.render("moderation/jury_detail.html", {
        "jury": jury, "seat": seat, "post": post, "thread": post.thread,
        "parent": post.parent if post.parent_id else None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def jury_result(request, pk):
    """A jury's result, for the poster, the alerter and staff: the verdict, the counts
    and the jurors' comments, never their names. The poster may appeal a hide."""
    juries = Jury.objects.select_related("alert__rule", "post__thread")
    jury = get_object_or_404(juries, pk=pk)
    member = request.user
    if member.pk not in {jury.post.author_id, jury.alert.alerter_id} and not is_staff(member):
        raise Http404
    if services.jury_enforce_deadlines(jury=jury):
        jury = juries.get(pk=pk)
    sub = Submission(request, AppealForm(request.POST or None))
    if sub.sending:
        with sub.refusals():
            services.appeal_create(member=member, jury=jury, text=sub.form.cleaned_data["text"])
            messages.success(request, _("Your appeal is with the staff."))
            return redirect("moderation:jury-result", pk=jury.pk)
    return sub.render("moderation/jury_result.html", {
        "jury": jury,
        "comments": jury.seats.filter(is_replaced=False).exclude(answer="").order_by("answered_at"),
        "appeal": Appeal.objects.filter(jury=jury).first(),
        "can_appeal": member.pk == jury.post.author_id and jury.verdict == Jury.Verdict.HIDE,
    })


def _thread_for_moderation(request, pk):
    thread = get_object_or_404(Thread.objects.select_related("forum"), pk=pk)
    check_moderate_permission(request.user, thread.forum)
    return thread


@login_required
@require_POST
def thread_lock(request, pk):
    """Hosts of the forum and staff lock or unlock a thread."""
    thread = _thread_for_moderation(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.thread_lock(moderator=request.user, thread=thread, lock=request.POST.get("lock") == "1", reason=reason)
    return redirect(thread)


@login_required
@require_POST
def thread_pin(request, pk):
    """Hosts of the forum and staff pin or unpin a thread."""
    thread = _thread_for_moderation(request, pk)
    services.thread_pin(moderator=request.user, thread=thread, pin=request.POST.get("pin") == "1")
    return redirect(thread)


@login_required
@require_POST
def poll_close(request, pk):
    """Hosts of the forum and staff close a thread's poll."""
    thread = _thread_for_moderation(request, pk)
    if not thread.has_poll:
        raise Http404(_("This thread has no poll."))
    closed = services.poll_close(moderator=request.user, thread=thread)
    messages.success(request, _("The poll is closed.") if closed else _("The poll was closed already."))
    return redirect(f"{thread.get_absolute_url()}#poll")


@login_required
@require_http_methods(["GET", "POST"])
def thread_move(request, pk):
    """Move a thread: hosts between the forums they host, staff anywhere."""
    thread = _thread_for_moderation(request, pk)
    forums = Forum.objects.all() if is_staff(request.user) else request.user.hosted_forums.all()
    form = MoveForm(request.POST or None, forums=forums.order_by("name"))
    if request.method == "POST" and form.is_valid():
        services.thread_move(moderator=request.user, thread=thread, to_forum=form.cleaned_data["forum"],
                    reason=form.cleaned_data["reason"])
        messages.success(request, _("The thread was moved."))
        return redirect(thread)
    return render(request, "moderation/thread_move.html", {"form": form, "thread": thread},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def post_hide(request, pk, number):
    """Staff hide a post, or show it again."""
    check_staff_permission(request.user)
    post = get_object_or_404(Post.objects.select_related("thread__forum"), thread_id=pk, number=number)
    form = ReasonForm(request.POST)
    services.post_hide(staff=request.user, post=post, hide=request.POST.get("hide") == "1",
              reason=form.cleaned_data["reason"] if form.is_valid() else "")
    return redirect(post.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def forum_hosting(request, slug):
    """A forum's hosting page: its hosts and blocked members; add hosts, block and
    unblock members. Hosts of this forum and staff."""
    forum = get_object_or_404(Forum, slug=slug)
    check_moderate_permission(request.user, forum)
    sub = Submission(request, MemberActionForm(request.POST or None))
    if sub.sending:
        with sub.refusals():
            member, action, reason = (sub.form.cleaned_data[name] for name in ("member", "action", "reason"))
            if action == "add_host":
                services.host_add(moderator=request.user, forum=forum, member=member)
            else:
                services.member_block(moderator=request.user, forum=forum, member=member,
                                      block=action == "block", reason=reason)
            messages.success(request, _("Done."))
            return redirect("moderation:forum-hosting", slug=forum.slug)
    return sub.render("moderation/forum_hosting.html", {
        "forum": forum,
        "hosts": forum.hosts.order_by("username"),
        "blocked": forum.blocks.select_related("member").order_by("member__username"),
    })


@login_required
def post_verdict(request, pk, number):
    """"See why": the latest jury result on a hidden post, for its author and staff."""
    post = get_object_or_404(Post, thread_id=pk, number=number)
    jury = post.juries.filter(is_open=False).order_by("-closed_at").first()
    if jury is None or (post.author_id != request.user.pk and not is_staff(request.user)):
        raise Http404
    return redirect(jury)
