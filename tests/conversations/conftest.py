import pytest

from conversations.services import conversation_create
from tests.factories import MemberFactory


@pytest.fixture
def start_conversation(db):
    """A builder: `start_conversation(sender, recipient, subject=..., body=...)`."""

    def build(sender, recipient, *, subject="Hello", body="A first message.", **kwargs):
        return conversation_create(
            sender=sender, recipient=recipient, subject=subject, body=body, **kwargs
        )

    return build


@pytest.fixture
def conversation(member, other_member, start_conversation):
    """other_member wrote to member; member has not read it yet."""
    return start_conversation(other_member, member, subject="About the meetup")


@pytest.fixture
def outsider(db):
    return MemberFactory()
