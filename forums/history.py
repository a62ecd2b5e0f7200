"""A post's edit history: each version with what changed since the one before, word by
word.

Changes are worked out from the plain text a member wrote (the Markdown source kept
with every version), never from the HTML made from it: a diff cut through HTML would
split tags, and member text only becomes HTML in forums.rendering. Every word printed
here is escaped; the only markup is our own <ins> and <del>.
"""

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Words and the white space between them, as separate tokens, so that line breaks
# survive and a changed word is marked without the spaces around it.
_TOKENS = re.compile(r"\s+|\S+")


def word_diff(before: str, after: str) -> SafeString:
    """`after`, with the words inserted since `before` in <ins> and the words deleted
    from it in <del>, all escaped."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    # difflib's autojunk (on by default) keeps long texts from costing quadratic time;
    # an isjunk for white space would undo that.
    opcodes = difflib.SequenceMatcher(None, old, new).get_opcodes()
    runs = []  # [deleted, inserted] text of each change, or the text both share
    for operation, old_start, old_end, new_start, new_end in opcodes:
        deleted, inserted = "".join(old[old_start:old_end]), "".join(new[new_start:new_end])
        if operation == "equal":
            runs.append(inserted)
        elif len(runs) >= 2 and isinstance(runs[-2], list) and isinstance(runs[-1], str) and runs[-1].isspace():
            # Two changes parted only by a space are one: "a b" to "c d" reads
            # better as one phrase replaced than as two words.
            space = runs.pop()
            runs[-1][0] += space + deleted
            runs[-1][1] += space + inserted
        else:
            runs.append([deleted, inserted])
    parts = []
    for run in runs:
        if isinstance(run, str):
            parts.append(escape(run))
            continue
        deleted, inserted = run
        if deleted:
            parts.append(f"<del>{escape(deleted)}</del>")
        if inserted:
            parts.append(f"<ins>{escape(inserted)}</ins>")
    return mark_safe("".join(parts))


@dataclass(frozen=True)
class Version:
    """One version of a post: the first (`number` 1) has no changes to show."""

    number: int
    subject: str
    body_html: str
    written_at: datetime
    subject_changes: SafeString | None
    body_changes: SafeString | None
    is_current: bool


def post_versions(post, revisions) -> list[Version]:
    """Every version of `post`, newest (the current one) first, each with its changes
    from the version before it. `revisions` are the post's PostRevisions, in any order."""
    texts = sorted(revisions, key=lambda revision: (revision.written_at, revision.pk))
    texts.append(post)
    versions = []
    for number, version in enumerate(texts, start=1):
        previous = texts[number - 2] if number > 1 else None
        versions.append(Version(
            number=number,
            subject=version.subject,
            body_html=version.body_html,
            written_at=(version.edited_at or version.created_at) if version is post else version.written_at,
            subject_changes=(
                word_diff(previous.subject, version.subject)
                if previous and previous.subject != version.subject else None
            ),
            body_changes=word_diff(previous.body, version.body) if previous else None,
            is_current=version is post,
        ))
    return versions[::-1]
