from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import http_date
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from config.middleware import accepts_pictures
from config.submission import Submission
from forums.models import Picture
from forums.pagination import page_or_404
from forums.pictures import FORMATS
from forums.rendering import render_post
from forums.views import compose_context, with_pictures

from . import services
from .forms import ConversationForm, MessageForm
from .models import Participant
from .permissions import can_see_picture, check_can_send, reply_refusal
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
@accepts_pictures
def conversation_create(request):
    """"New message" to a member (`?to=<username>` fills in the recipient). Members who
    may write; the service refuses recipients who ignore them."""
    check_can_send(request.user)
    form = ConversationForm(
        request.POST or None, request.FILES or None, initial={"recipient": request.GET.get("to", "")}
    )
    sub = Submission(request, form, limit="message")
    data = with_pictures(request, sub)
    if sub.sending:
        with sub.refusals(denied_on="recipient"):
            conversation = services.conversation_create(sender=request.user, **data)
            return redirect(conversation)
    return sub.render(
        "conversations/conversation_form.html", compose_context(request, {"preview": _preview(sub)})
    )


@login_required
@require_http_methods(["GET", "POST"])
@accepts_pictures
def conversation_detail(request, pk):
    """A conversation, oldest message first, with the answer form. Its participants only:
    to anyone else it does not exist. Opening it marks it read."""
    seat = get_object_or_404(Participant.objects.for_conversation_page(request.user), conversation_id=pk)
    conversation = seat.conversation
    sub = Submission(request, MessageForm(request.POST or None, request.FILES or None), limit="message")
    data = with_pictures(request, sub)
    if sub.sending:
        with sub.refusals(denied_on=NON_FIELD_ERRORS):
            message = services.message_create(author=request.user, conversation=conversation, **data)
            return redirect(message_url(message))
    context = conversation_page(seat, page_number=request.GET.get("page"))
    if seat.unread_count and request.method == "GET":
        services.conversation_mark_read(member=request.user, conversation=conversation)
    refusal = reply_refusal(request.user, conversation, context["others"])
    return sub.render(
        "conversations/conversation_detail.html",
        compose_context(request, {**context, "refusal": refusal, "preview": _preview(sub)}),
    )


# A picture is only ever an image to the browser: never sniffed as anything else, and
# were it opened as a document, sandboxed with nothing allowed to load or run.
PICTURE_POLICY = "default-src 'none'; img-src 'self'; sandbox"
PICTURE_CACHE_SECONDS = 3600


@require_safe
def picture_file(request, pk, thumbnail=False):
    """A picture of a post or message, or its thumbnail, to whoever may see it (to
    anyone else it does not exist). Served from STORAGES["pictures"] in the format it
    was re-encoded to, under a name made from its id, never the uploaded file's name."""
    picture = get_object_or_404(Picture.objects.for_serving(), pk=pk)
    if not can_see_picture(request.user, picture):
        raise Http404
    content_type, extension = FORMATS[picture.format]
    stored = picture.thumbnail if thumbnail else picture.display
    response = FileResponse(
        stored.open("rb"), content_type=content_type,
        filename=f"picture-{picture.pk}{'-thumbnail' if thumbnail else ''}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PICTURE_POLICY
    # Private: whether it may be seen depends on who asks, and can change (hidden posts).
    response["Cache-Control"] = f"private, max-age={PICTURE_CACHE_SECONDS}"
    response["Last-Modified"] = http_date(picture.created_at.timestamp())
    return response
