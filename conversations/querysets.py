"""Reusable reads. Each page gets one `for_<page>()` that loads what its template uses."""

from django.db import models


class ParticipantQuerySet(models.QuerySet):
    def of(self, member):
        return self.filter(member=member)

    def with_others(self, member):
        """The conversation's other participants with their names, in one query for the
        whole page, as `conversation.others`."""
        from .models import Participant

        return self.prefetch_related(
            models.Prefetch(
                "conversation__participants",
                queryset=Participant.objects.exclude(member=member)
                .select_related("member")
                .order_by("joined_at", "id"),
                to_attr="others",
            )
        )

    def for_inbox(self, member):
        """Every conversation the member takes part in, newest activity first."""
        return (
            self.of(member)
            .order_by("-last_message_at", "-id")
            .select_related("conversation__started_by")
            .with_others(member)
        )

    def for_sent(self, member):
        """Conversations the member started or wrote in, by when they last wrote."""
        return (
            self.of(member)
            .filter(last_sent_at__isnull=False)
            .order_by("-last_sent_at", "-id")
            .select_related("conversation__started_by")
            .with_others(member)
        )

    def for_conversation_page(self, member):
        return self.of(member).select_related("conversation")


class MessageQuerySet(models.QuerySet):
    def for_conversation_page(self, conversation, *, first: int, last: int):
        """Messages numbered first..last, oldest first: an index range, never an OFFSET."""
        return (
            self.filter(conversation=conversation, number__gte=first, number__lte=last)
            .order_by("number")
            .select_related("author")
        )
