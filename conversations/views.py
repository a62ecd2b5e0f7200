from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from config import ratelimit
from forums.pagination import CountedPaginator, page_or_404
from accounts.standing import PostingPaused
from forums.rendering import render_post

from .forms import ConversationForm, MessageForm
from .models import Message, Participant
from .permissions import check_can_send, reply_refusal
from .services import conversation_create, conversation_mark_read, message_create


def _compose(request, form, *, save, refusal_field=None):
    """Shared shape of the writing views: "Preview" renders the text through the one
    pipeline without saving; "Send" counts against the message rate limit, calls
    `save(cleaned_data)` and redirects to what it returns. Refusals are shown on the form
    with their status, and nothing typed is lost.
    Returns (response or None, preview, status, rate-limit refusal or None)."""
    preview, status, limited = None, 200, None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_post(form.cleaned_data["body"])
        else:
            try:
                ratelimit.consume(request, "message")
                return redirect(save(form.cleaned_data)), None, 302, None
            except ratelimit.RateLimited as refusal:
                limited = refusal
                form.add_error(None, str(refusal))
                status = 429
            except ValidationError as refusal:
                form.add_error(None, refusal)
            except PostingPaused as pause:
                form.add_error(None, str(pause))
                status = 429
            except PermissionDenied as refusal:
                form.add_error(refusal_field, str(refusal))
                status = 403
    if form.errors and status == 200:
        status = 400
    return None, preview, status, limited


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
def conversation_create_view(request):
    """"New message" to a member (`?to=<username>` fills in the recipient). Members who
    may write; the service refuses recipients who ignore them."""
    check_can_send(request.user)
    form = ConversationForm(request.POST or None, initial={"recipient": request.GET.get("to", "")})

    def save(data):
        return conversation_create(
            sender=request.user, recipient=data["recipient"], subject=data["subject"],
            body=data["body"],
        )

    response, preview, status, limited = _compose(request, form, save=save, refusal_field="recipient")
    if response:
        return response
    response = render(
        request, "conversations/conversation_form.html", {"form": form, "preview": preview},
        status=status,
    )
    return ratelimit.with_retry_after(response, limited)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_detail(request, pk):
    """A conversation, oldest message first, with the answer form. Its participants only:
    to anyone else it does not exist. Opening it marks it read."""
    seat = get_object_or_404(Participant.objects.for_conversation_page(request.user), conversation_id=pk)
    conversation = seat.conversation
    form = MessageForm(request.POST or None)

    def save(data):
        message = message_create(author=request.user, conversation=conversation, body=data["body"])
        return _message_url(message)

    response, preview, status, limited = _compose(request, form, save=save)
    if response:
        return response
    # Messages are numbered 1..N, so a page is a range of numbers; without a page asked
    # for, the member lands where their unread messages start (or on the newest).
    per_page = settings.FORUMS_MESSAGES_PER_PAGE
    paginator = CountedPaginator([], per_page, count=conversation.message_count)
    first_unread = conversation.message_count - seat.unread_count + 1
    landing = (first_unread - 1) // per_page + 1 if seat.unread_count else paginator.num_pages
    page = page_or_404(paginator, request.GET.get("page") or landing)
    messages = list(
        Message.objects.for_conversation_page(
            conversation, first=page.start_index(), last=page.end_index()
        )
    )
    others = [
        participant.member
        for participant in conversation.participants.exclude(member=request.user)
        .select_related("member").order_by("joined_at", "id")
    ]
    if seat.unread_count and request.method == "GET":
        conversation_mark_read(member=request.user, conversation=conversation)
    response = render(
        request,
        "conversations/conversation_detail.html",
        {
            "conversation": conversation,
            "others": others,
            "page": page,
            "conversation_messages": messages,
            "new_from": first_unread if seat.unread_count else None,
            "refusal": reply_refusal(request.user, conversation, others),
            "form": form,
            "preview": preview,
        },
        status=status,
    )
    return ratelimit.with_retry_after(response, limited)


def _message_url(message) -> str:
    page = (message.number - 1) // settings.FORUMS_MESSAGES_PER_PAGE + 1
    return f"{message.conversation.get_absolute_url()}?page={page}#message-{message.number}"
