from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from config.submission import Submission
from forums.pagination import page_or_404
from forums.rendering import render_post

from . import services
from .forms import ConversationForm, MessageForm
from .models import Participant
from .permissions import check_can_send, reply_refusal
from .reading import conversation_page, message_url


def _preview(sub):
    """"Preview" renders the text through the one pipeline without sending it."""
    return render_post(sub.form.cleaned_data["body"]) if sub.previewing else None


def _pages(request, template, rows):
    paginator = Paginator(rows, settings.FORUMS_CONVERSATIONS_PER_PAGE)
    page = page_or_404(paginator, request.GET.get("page"))
    return render(request, template, {"page": page})


@login_required
@require_GET
def inbox(request):
    """The member's conversations, newest activity first, unread ones marked."""
    return _pages(request, "conversations/inbox.html", Participant.objects.for_inbox(request.user))


@login_required
@require_GET
def sent(request):
    """The conversations the member started or wrote in, by when they last wrote."""
    return _pages(request, "conversations/sent.html", Participant.objects.for_sent(request.user))


@login_required
@require_http_methods(["GET", "POST"])
def conversation_create(request):
    """"New message" to a member (`?to=<username>` fills in the recipient). Members who
    may write; the service refuses recipients who ignore them."""
    check_can_send(request.user)
    form = ConversationForm(request.POST or None, initial={"recipient": request.GET.get("to", "")})
    sub = Submission(request, form, limit="message")
    if sub.sending:
        data = sub.form.cleaned_data
        with sub.refusals(denied_on="recipient"):
            conversation = services.conversation_create(
                sender=request.user, recipient=data["recipient"], subject=data["subject"],
                body=data["body"],
            )
            return redirect(conversation)
    return sub.render("conversations/conversation_form.html", {"preview": _preview(sub)})


@login_required
@require_http_methods(["GET", "POST"])
def conversation_detail(request, pk):
    """A conversation, oldest message first, with the answer form. Its participants only:
    to anyone else it does not exist. Opening it marks it read."""
    seat = get_object_or_404(Participant.objects.for_conversation_page(request.user), conversation_id=pk)
    conversation = seat.conversation
    sub = Submission(request, MessageForm(request.POST or None), limit="message")
    if sub.sending:
        with sub.refusals(denied_on=NON_FIELD_ERRORS):
            message = services.message_create(
                author=request.user, conversation=conversation, body=sub.form.cleaned_data["body"]
            )
            return redirect(message_url(message))
    context = conversation_page(seat, page_number=request.GET.get("page"))
    if seat.unread_count and request.method == "GET":
        services.conversation_mark_read(member=request.user, conversation=conversation)
    refusal = reply_refusal(request.user, conversation, context["others"])
    return sub.render(
        "conversations/conversation_detail.html", {**context, "refusal": refusal, "preview": _preview(sub)}
    )
