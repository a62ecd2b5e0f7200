"""Path converters shared by the apps' URLs."""


class IdConverter:
    """`<id:pk>`: a row id or post number, at most 18 digits. A BigAutoField holds up
    to 9.2 × 10^18; a longer number would overflow the database driver (a 500 on
    SQLite) instead of naming no row, so the URL simply does not match (404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


class UsernameConverter:
    """`<username:username>`: only the characters a username may hold (Django's
    UnicodeUsernameValidator), so a NUL byte or other junk is a 404, not a query that
    PostgreSQL refuses with a 500."""

    regex = r"[\w.@+-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)
