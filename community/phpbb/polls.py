"""The polls step: a topic's poll -> its thread's poll, with its members' votes.

phpBB keeps a poll on its topic (poll_title, poll_start, poll_length, poll_max_options,
poll_vote_change), its options in poll_options and one poll_votes row per option a
voter chose. Grassroots keeps a vote per member (PollVote) with a PollChoice per option,
and counts in columns (Poll.voter_count, PollOption.vote_count) that must equal those
rows; so the counts are made from the votes brought over, not from phpBB's totals,
which also count guests. A batch of polls is one transaction with its mappings, as in
the other steps. A second run adds the polls of new topics and, to polls brought over
before, the votes of members who have no vote in them yet; it changes no vote already
here (nor one cast here since).
"""

from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from forums.models import Poll, PollChoice, PollOption, PollVote, Post, Thread
from forums.polls import OPTION_MAX, OPTIONS_MAX, OPTIONS_MIN, QUESTION_MAX
from forums.rendering import searchable_text

from .common import ANONYMOUS, Kind, chunks, moment
from .text import to_plain

POLL_BATCH = 200
# phpBB's poll_max_options is the number of options a voter may choose.
NO_QUESTION = "(no question)"


def poll_texts(topic: dict, options: list[dict]) -> tuple[str, list[str]]:
    """The question and the options as Grassroots shows them: plain text, one line,
    cut to Grassroots' lengths. phpBB parses both like the topic's first post (with its
    BBCode uid on 3.0)."""
    uid = topic["bbcode_uid"] or ""
    question = to_plain(topic["poll_title"] or "", uid)[:QUESTION_MAX] or NO_QUESTION
    texts = [to_plain(row["poll_option_text"] or "", uid)[:OPTION_MAX] for row in options]
    return question, texts


class PollImport:
    def __init__(self, importer):
        self.importer, self.summary, self.source = importer, importer.summary, importer.source
        self.threads = importer.mapped(Kind.THREAD)
        self.members = importer.mapped(Kind.MEMBER)
        self.done = importer.mapped(Kind.POLL)

    def run(self) -> None:
        source = self.source
        topics = list(source.rows(
            "SELECT t.topic_id, t.topic_time, t.poll_title, t.poll_start, t.poll_length, t.poll_max_options, "
            "t.poll_vote_change, p.bbcode_uid FROM {t}topics t "
            "LEFT JOIN {t}posts p ON p.post_id = t.topic_first_post_id "
            "WHERE t.poll_title <> '' ORDER BY t.topic_id"))
        if topics and not (source.has("poll_options") and source.has("poll_votes")):
            self.summary.not_carried.append(f"{len(topics):,} polls (the database has no phpBB poll_options "
                                            "and poll_votes tables to read them from)")
            return
        for batch in chunks(topics, POLL_BATCH):
            self._batch(batch)

    def _read(self, table: str, columns: str, order: str, low: int, high: int) -> dict[int, list[dict]]:
        rows = defaultdict(list)
        for row in self.source.rows(f"SELECT {columns} FROM {{t}}{table} WHERE topic_id BETWEEN %s AND %s "
                                    f"ORDER BY {order}", [low, high]):
            rows[row["topic_id"]].append(row)
        return rows

    @transaction.atomic
    def _batch(self, topics: list[dict]) -> None:
        low, high = topics[0]["topic_id"], topics[-1]["topic_id"]
        options = self._read("poll_options", "topic_id, poll_option_id, poll_option_text",
                             "topic_id, poll_option_id", low, high)
        votes = self._read("poll_votes", "topic_id, poll_option_id, vote_user_id",
                           "topic_id, vote_user_id, poll_option_id", low, high)
        existing = Poll.objects.in_bulk([self.done[t["topic_id"]] for t in topics if t["topic_id"] in self.done])
        existing_options = defaultdict(list)
        for option in PollOption.objects.filter(poll__in=list(existing)).order_by("poll", "position"):
            existing_options[option.poll_id].append(option)
        voted = set(PollVote.objects.filter(poll__in=list(existing)).values_list("poll_id", "member_id"))
        new_polls, new_options, new_votes = [], [], []  # (poll, [options]), ..., (poll, member, [options])
        for topic in topics:
            topic_id = topic["topic_id"]
            question, texts = poll_texts(topic, options.get(topic_id, []))
            option_ids = [row["poll_option_id"] for row in options.get(topic_id, [])]
            if topic_id in self.done:
                poll = existing.get(self.done[topic_id])
                if poll is None:
                    continue  # removed here since (its thread was deleted)
                self.summary.already["polls"] += 1
                here = existing_options[poll.pk]
                if [option.text for option in here] != texts:
                    self._skip_votes(votes.get(topic_id, []), "the poll's options changed on phpBB after it "
                                     "was imported", topic_id)
                    continue
                by_old = dict(zip(option_ids, here, strict=True))
            else:
                thread_id = self.threads.get(topic_id)
                if thread_id is None:
                    self.summary.skip("polls", "their topic was not imported", topic_id)
                    continue
                if not OPTIONS_MIN <= len(texts) <= OPTIONS_MAX:
                    self.summary.skip("polls", f"{len(texts)} options (a Grassroots poll has "
                                      f"{OPTIONS_MIN} to {OPTIONS_MAX})", topic_id)
                    continue
                poll = self._new_poll(topic, thread_id, question, len(texts))
                poll_options = [PollOption(poll=poll, position=n, text=text) for n, text in enumerate(texts)]
                new_polls.append((topic_id, poll))
                new_options.extend(poll_options)
                by_old = dict(zip(option_ids, poll_options, strict=True))
            for member_id, chosen in self._members_votes(topic_id, poll, votes.get(topic_id, []), by_old, voted):
                new_votes.append((poll, member_id, chosen))
        self._write(new_polls, new_options, new_votes)

    @staticmethod
    def _new_poll(topic, thread_id, question, option_count) -> Poll:
        started = moment(topic["poll_start"] or topic["topic_time"])
        length = topic["poll_length"] or 0
        return Poll(
            thread_id=thread_id, question=question,
            max_choices=min(max(topic["poll_max_options"] or 1, 1), option_count),
            allows_vote_change=bool(topic["poll_vote_change"]),
            # phpBB shows anyone the results through its "View results" link.
            results_shown=Poll.Results.ALWAYS,
            closes_at=moment(int(topic["poll_start"] or topic["topic_time"]) + length) if length > 0 else None,
            created_at=started,
        )

    def _members_votes(self, topic_id, poll, rows, by_old, voted):
        """The votes to add to `poll`: (member id, [PollOption]) per voter with a member here
        and no vote in the poll yet; the others are counted in the summary."""
        by_voter = defaultdict(list)
        for row in rows:
            by_voter[row["vote_user_id"]].append(row)
        for user_id, choices in by_voter.items():
            member_id = self.members.get(user_id) if user_id != ANONYMOUS else None
            if member_id is None:
                self._skip_votes(choices, "guests' votes (a Grassroots vote is a member's)" if user_id in
                                 (ANONYMOUS, 0) else "their member was not imported", topic_id)
                continue
            if (poll.pk, member_id) in voted:
                self.summary.already["poll votes"] += 1
                continue
            chosen = list({row["poll_option_id"]: by_old[row["poll_option_id"]]
                           for row in choices if row["poll_option_id"] in by_old}.values())
            if not chosen:
                self.summary.skip("poll votes", "for options the poll does not have", topic_id)
                continue
            if len(chosen) > poll.max_choices:
                self.summary.skip("poll choices", "beyond the poll's number of choices (the first ones are "
                                  "kept)", topic_id)
                chosen = chosen[: poll.max_choices]
            voted.add((poll.pk, member_id))
            yield member_id, chosen

    def _skip_votes(self, rows, reason: str, topic_id: int) -> None:
        for _voter in {row["vote_user_id"] for row in rows}:
            self.summary.skip("poll votes", reason, topic_id)

    def _write(self, new_polls, new_options, new_votes) -> None:
        # phpBB records no time for a vote: they are dated when they came over.
        now = timezone.now()
        option_counts = Counter(id(option) for _, _, chosen in new_votes for option in chosen)
        voter_counts = Counter(id(poll) for poll, _, _ in new_votes)
        for _, poll in new_polls:
            poll.voter_count = voter_counts[id(poll)]
        for option in new_options:
            option.vote_count = option_counts[id(option)]
        Poll.objects.bulk_create([poll for _, poll in new_polls])
        PollOption.objects.bulk_create(new_options)
        votes = PollVote.objects.bulk_create(
            [PollVote(poll=poll, member_id=member_id, cast_at=now) for poll, member_id, _ in new_votes])
        PollChoice.objects.bulk_create(
            [PollChoice(vote=vote, option=option) for vote, (_, _, chosen) in zip(votes, new_votes) for option in chosen])
        # Polls of an earlier run that got votes: their counts move by what was added,
        # under the lock that votes cast here take (forums.polls.poll_vote).
        new_ids = {poll.pk for _, poll in new_polls}
        older = Counter(poll.pk for poll, _, _ in new_votes if poll.pk not in new_ids)
        for poll_id in Poll.objects.select_for_update().filter(pk__in=list(older)).order_by("pk").values_list("pk", flat=True):
            Poll.objects.filter(pk=poll_id).update(voter_count=F("voter_count") + older[poll_id])
        older_options = Counter(option.pk for poll, _, chosen in new_votes if poll.pk not in new_ids for option in chosen)
        for option_id, added in sorted(older_options.items()):
            PollOption.objects.filter(pk=option_id).update(vote_count=F("vote_count") + added)
        self._show_on_threads(new_polls)
        self.importer._map(Kind.POLL, [(topic_id, poll.pk) for topic_id, poll in new_polls])
        self.summary.imported["polls"] += len(new_polls)
        self.summary.imported["poll votes"] += len(new_votes)

    @staticmethod
    def _show_on_threads(new_polls) -> None:
        """The threads say they have a poll, and their opening posts' search text holds the
        question, as forums.services.thread_create makes it."""
        questions = {poll.thread_id: poll.question for _, poll in new_polls}
        Thread.objects.filter(pk__in=list(questions)).update(has_poll=True)
        openings = list(Post.objects.filter(thread__in=list(questions), number=0).only("pk", "thread", "body_html"))
        for post in openings:
            post.body_text = searchable_text(post.body_html, poll_question=questions[post.thread_id])
        Post.objects.bulk_update(openings, ["body_text"])
