"""What the conversation page shows, assembled for its view: messages are numbered
1..N at write time, so a page is a range of numbers and costs no COUNT or OFFSET."""

from django.conf import settings

from forums.pagination import CountedPaginator, page_or_404

from .models import Message


def conversation_page(seat, *, page_number) -> dict:
    """For a participant's `seat` (with its conversation loaded): one page of messages,
    the other participants' members, and the number of the first new message. Without
    `page_number` the member lands where their unread messages start (or on the newest
    page). Http404 for a page out of range."""
    conversation = seat.conversation
    per_page = settings.FORUMS_MESSAGES_PER_PAGE
    paginator = CountedPaginator(None, per_page, count=conversation.message_count)
    first_unread = conversation.message_count - seat.unread_count + 1
    landing = (first_unread - 1) // per_page + 1 if seat.unread_count else paginator.num_pages
    page = page_or_404(paginator, page_number or landing)
    others = [
        participant.member
        for participant in conversation.participants.exclude(member_id=seat.member_id)
        .select_related("member").order_by("joined_at", "id")
    ]
    return {
        "conversation": conversation,
        "others": others,
        "page": page,
        "conversation_messages": list(
            Message.objects.for_conversation_page(conversation, first=page.start_index(), last=page.end_index())
        ),
        "new_from": first_unread if seat.unread_count else None,
    }


def message_url(message) -> str:
    """The address of a message: its page of the conversation, scrolled to it."""
    page = (message.number - 1) // settings.FORUMS_MESSAGES_PER_PAGE + 1
    return f"{message.conversation.get_absolute_url()}?page={page}#message-{message.number}"
