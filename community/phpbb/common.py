"""What the import's steps share: phpBB's constants and how its values are read."""

import html
from datetime import UTC, datetime

from ..models import ImportedRow

Kind = ImportedRow.Kind
SOURCE = "phpbb"
# phpBB's constants (includes/constants.php).
ANONYMOUS = 1
USER_INACTIVE, USER_IGNORE = 1, 2
FORUM_CAT, FORUM_POST, FORUM_LINK = 0, 1, 2
ITEM_LOCKED, ITEM_MOVED = 1, 2
ITEM_UNAPPROVED, ITEM_APPROVED, ITEM_DELETED, ITEM_REAPPROVE = 0, 1, 2, 3
POST_STICKY = 1  # and above: announcements, global announcements
GUEST_NAME = "Guest"
BATCH = 2000


def moment(timestamp) -> datetime:
    return datetime.fromtimestamp(int(timestamp or 0), UTC)


def unescape(value) -> str:
    """phpBB keeps names, titles and subjects HTML-escaped."""
    return html.unescape(value or "").strip()


def one_line(value: str, limit: int) -> str:
    return " ".join(value.split())[:limit]



def chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
