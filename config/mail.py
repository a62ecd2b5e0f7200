"""Email that belongs to no app: who the site's mail comes from, and the development
mailer that prints it."""

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail.backends import console


def sender(name: str) -> str:
    """The From header of the site's mail: DEFAULT_FROM_EMAIL's address under `name`
    (the community's), unless the operator gave DEFAULT_FROM_EMAIL a name of its own."""
    own_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if own_name or not address:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((name, address))


class ConsoleBackend(console.EmailBackend):
    """Prints each message as a person reads it: the headers decoded, then each text
    part decoded. Django's console mailer prints the wire format, where a long line
    (a confirmation link) is quoted-printable, cut with "=" and cannot be clicked."""

    def write_message(self, message):
        mail = message.message()
        lines = [f"{name}: {value}" for name, value in mail.items()
                 if name.lower() not in {"content-transfer-encoding", "mime-version"}]
        for part in mail.walk():
            if part.get_content_maintype() == "text":
                lines += ["", f"[{part.get_content_type()}]", part.get_content().rstrip("\n")]
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
