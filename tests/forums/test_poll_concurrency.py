"""200 members vote in one poll at once from 8 workers, some of them twice from two
workers: every vote is counted exactly once, on SQLite and on PostgreSQL (the
PostgreSQL test runs when DATABASE_URL names PostgreSQL, and is skipped otherwise)."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from forums.models import Poll, PollChoice, PollOption, PollVote
from forums.polls import PollSpec
from forums.services import thread_create
from tests.factories import ForumFactory, MemberFactory

WORKERS = 8
MEMBERS = 200
# Members whose vote a second worker sends as well: only one of the two may count.
TWICE = 5  # per worker
OPTIONS = ("North", "East", "South", "West")


def _votes_at_once():
    forum = ForumFactory()
    author = MemberFactory()
    thread = thread_create(
        forum=forum, author=author, title="Where next?", body="Two choices each.",
        poll=PollSpec(question="Where shall we meet?", options=OPTIONS, max_choices=2),
    )
    options = list(PollOption.objects.filter(poll=thread.pk).order_by("position"))
    members = MemberFactory.create_batch(MEMBERS)
    # Member n ticks options n and n + 1 (of four): each option is chosen by half of them.
    ballot = {member.pk: [options[n % 4].pk, options[(n + 1) % 4].pk] for n, member in enumerate(members)}
    slices = [members[k::WORKERS] for k in range(WORKERS)]
    # Each worker also sends the first votes of the next worker's members.
    work = [slices[k] + slices[(k + 1) % WORKERS][:TWICE] for k in range(WORKERS)]
    url = reverse("forums:poll-vote", args=[thread.pk])
    clients = []
    for members_of_worker in work:
        logged_in = []
        for member in members_of_worker:
            client = Client()
            client.force_login(member)
            logged_in.append((member, client))
        clients.append(logged_in)
    start = threading.Barrier(WORKERS)
    statuses = Counter()
    lock = threading.Lock()

    def vote(logged_in):
        start.wait()
        try:
            for member, client in logged_in:
                response = client.post(url, {"option": ballot[member.pk]})
                with lock:
                    statuses[response.status_code] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=vote, args=(logged_in,)) for logged_in in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # Every member's vote counted once; every second send refused as a second vote.
    assert statuses == {302: MEMBERS, 400: WORKERS * TWICE}
    poll = Poll.objects.get(pk=thread.pk)
    assert poll.voter_count == MEMBERS == PollVote.objects.filter(poll=poll).count()
    counts = dict(PollOption.objects.filter(poll=poll).values_list("text", "vote_count"))
    assert counts == dict.fromkeys(OPTIONS, MEMBERS // 2)
    chosen = Counter(PollChoice.objects.filter(vote__poll=poll).values_list("option__text", flat=True))
    assert chosen == counts
    print(f"\n{MEMBERS} members, {WORKERS * TWICE} second votes, {WORKERS} workers on "
          f"{connection.vendor}: {poll.voter_count} voters, {counts}")


@pytest.mark.django_db(transaction=True)
def test_200_members_voting_at_once_are_counted_exactly_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on another database")
    _votes_at_once()


@pytest.mark.django_db(transaction=True)
def test_200_members_voting_at_once_are_counted_exactly_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    _votes_at_once()
