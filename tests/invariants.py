"""Invariants every write must keep, checked by the tests that write the most (fuzzing,
member deletion): the denormalised counters and "last post" columns equal the rows
they stand for. One function, so a new counter is checked everywhere at once."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum

from conversations.models import Conversation, Participant
from forums.models import Forum, Poll, PollOption, Post, Thread


def counter_gaps() -> list[str]:
    """Denormalised counters that differ from the rows they count (empty when exact)."""
    User = get_user_model()
    gaps = []
    for forum in Forum.objects.annotate(
        n_threads=Count("threads", distinct=True), n_posts=Count("threads__posts")
    ):
        if (forum.thread_count, forum.post_count) != (forum.n_threads, forum.n_posts):
            gaps.append(f"forum {forum.slug}: {forum.thread_count}/{forum.post_count} "
                        f"counted, {forum.n_threads}/{forum.n_posts} rows")
        last = Post.objects.filter(thread__forum=forum).order_by("-created_at", "-id").first()
        if forum.last_post_id != (last.pk if last else None):
            gaps.append(f"forum {forum.slug}: last post {forum.last_post_id}, "
                        f"newest row {last.pk if last else None}")
    for thread in Thread.objects.annotate(n_replies=Count("posts", filter=Q(posts__number__gt=0))):
        if thread.reply_count != thread.n_replies:
            gaps.append(f"thread {thread.pk}: {thread.reply_count} counted, {thread.n_replies} rows")
    unread = dict(
        Participant.objects.values("member").annotate(total=Sum("unread_count"))
        .values_list("member", "total")
    )
    for member in User.objects.annotate(n_posts=Count("posts")):
        if member.post_count != member.n_posts:
            gaps.append(f"member {member.username}: {member.post_count} posts counted, "
                        f"{member.n_posts} rows")
        if member.unread_message_count != unread.get(member.pk, 0):
            gaps.append(f"member {member.username}: {member.unread_message_count} unread counted, "
                        f"{unread.get(member.pk, 0)} in conversations")
    for conversation in Conversation.objects.annotate(n_messages=Count("messages")):
        if conversation.message_count != conversation.n_messages:
            gaps.append(f"conversation {conversation.pk}: {conversation.message_count} counted, "
                        f"{conversation.n_messages} rows")
    for poll in Poll.objects.annotate(n_votes=Count("votes")):
        if poll.voter_count != poll.n_votes:
            gaps.append(f"poll {poll.pk}: {poll.voter_count} voters counted, {poll.n_votes} votes")
    for option in PollOption.objects.annotate(n_choices=Count("choices")):
        if option.vote_count != option.n_choices:
            gaps.append(f"poll option {option.pk}: {option.vote_count} counted, {option.n_choices} choices")
    return gaps


def assert_counters_equal_rows() -> None:
    gaps = counter_gaps()
    assert not gaps, "\n".join(gaps)
