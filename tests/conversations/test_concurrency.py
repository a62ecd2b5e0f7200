"""Two members writing to each other at once: nothing lost, counts exact, no deadlock."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conversations.models import Conversation, Message, Participant
from conversations.services import conversation_create
from tests.factories import MemberFactory

ROUNDS = 15


@pytest.mark.django_db(transaction=True)
def test_members_writing_and_reading_at_once_keep_exact_counts():
    first, second = MemberFactory.create_batch(2)
    shared = conversation_create(sender=first, recipient=second, subject="Shared", body="Start")
    url = reverse("conversations:conversation-detail", args=[shared.pk])
    start = threading.Barrier(2)
    statuses, lock = [], threading.Lock()

    def talk(member, other):
        client = Client()
        client.force_login(member)
        start.wait()
        try:
            for n in range(ROUNDS):
                responses = [
                    client.post(url, {"body": f"{member.username} says {n}", "post": "1"}),
                    # Each starts a conversation with the other: the rows two senders
                    # lock are the same two members, taken in the same order.
                    client.post(reverse("conversations:conversation-create"), {
                        "recipient": other.username, "subject": f"S{n}", "body": "b", "post": "1",
                    }),
                ]
                if n % 3 == 0:
                    responses.append(client.get(url))
                with lock:
                    statuses.extend(response.status_code for response in responses)
        finally:
            connection.close()

    workers = [threading.Thread(target=talk, args=pair) for pair in [(first, second), (second, first)]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert set(statuses) <= {200, 302} and len(statuses) == 2 * (2 * ROUNDS + 5)
    numbers = list(Message.objects.filter(conversation=shared).order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, 2 * ROUNDS + 2))
    assert Conversation.objects.get(pk=shared.pk).message_count == 2 * ROUNDS + 1
    assert Conversation.objects.count() == 1 + 2 * ROUNDS
    for member in User.objects.filter(pk__in=[first.pk, second.pk]):
        seats = Participant.objects.filter(member=member)
        assert member.unread_message_count == sum(seats.values_list("unread_count", flat=True))
        # Everything the other started is unread; the shared one is partly read.
        assert seats.exclude(conversation=shared).filter(unread_count=1).count() == ROUNDS
