"""The member's pages that show rows of several apps: their public profile (posts,
hidden posts), their settings (trash, ignores, chance to serve on a jury), "Download
my data" and deleting their account."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import AccountDeleteForm, SettingsForm
from accounts.services import member_update
from config import page_cache
from config.submission import Submission
from forums.querysets import member_for_profile, profile_post_rows
from moderation.services import member_chance

from . import services
from .export import member_data_export


@page_cache.visitor_page(page_cache.PROFILE)
def member_detail(request, username):
    """A member's public profile: member since, post count, Star badge and recent posts."""
    member = member_for_profile(username)
    if member is None:
        raise Http404(_("No member found."))
    page_cache.shows(page_cache.member(member.pk))  # their post count, avatar and badges
    posts = profile_post_rows(member.pk)
    return render(
        request,
        "accounts/member_detail.html",
        {
            "member": member,
            "recent_posts": posts["recent"],
            # Transparency: what juries and staff hid of this member's lately.
            "hidden_posts": posts["hidden"],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request):
    """The member's own profile and preferences. Only ever edits the logged-in member."""
    member = request.user
    sub = Submission(request, SettingsForm(request.POST or None, request.FILES or None, instance=member))
    if sub.sending:
        with sub.refusals():
            member_update(member=member, **sub.form.cleaned_data)
            messages.success(request, _("Your settings are saved."))
            return redirect("members:settings")
    return sub.render("accounts/settings.html", {
        "trashed_threads": member.trashed_threads.select_related("thread").order_by("-created_at"),
        "trashed_forums": member.trashed_forums.select_related("forum").order_by("forum__name"),
        "ignored": member.ignoring.select_related("ignored").order_by("ignored__username"),
        "chance_to_serve": member_chance(member),
    })


@login_required
@require_GET
def member_data_download(request):
    """"Download my data": the logged-in member's own data as a JSON attachment."""
    data = member_data_export(member=request.user)
    day = timezone.now().strftime("%Y-%m-%d")
    response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="grassroots-my-data-{day}.json"'
    # A member's private messages: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def member_delete_confirm(request):
    """Delete the logged-in member's own account, after a warning and their password."""
    form = AccountDeleteForm(request.POST if request.method == "POST" else None)
    sub = Submission(request, form, limit="account_delete")
    if sub.sending:
        with sub.refusals(denied_on=NON_FIELD_ERRORS):
            services.member_delete(member=request.user, password=sub.form.cleaned_data["password"])
            logout(request)
            messages.success(request, _("Your account has been deleted. Goodbye, and thank you."))
            return redirect("forums:home")
    return sub.render(
        "accounts/member_delete.html",
        {"posts_removed": settings.FORUMS_DELETED_MEMBER_POSTS == "remove"},
    )
