"""Passwords members had on a phpBB forum (`manage.py import_phpbb`).

phpBB 3.1 and later store bcrypt hashes (`$2y$...`, PHP's name for bcrypt); phpBB 3.0,
and accounts never logged into since, store portable phpass hashes (`$H$...`, `$P$`
elsewhere): salted MD5 repeated 2^n times. The importer keeps the hash as it is, behind
this hasher's prefix (`phpbb$<phpBB's hash>`). The hasher only checks passwords: it is
listed after Django's own in PASSWORD_HASHERS, so when a member first logs in Django
hashes their password again with its default and the phpBB hash is gone.
"""

import hashlib
import hmac

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BCRYPT_PREFIXES = ("$2y$", "$2a$", "$2b$")
PHPASS_PREFIXES = ("$H$", "$P$")
# PHP's crypt() reads at most 72 bytes of a password for bcrypt; the bcrypt package
# refuses longer ones instead.
BCRYPT_MAX_BYTES = 72


def _php_escaped(password: str) -> str:
    """What phpBB's request layer made of a password before hashing it: htmlspecialchars."""
    return (password.replace("&", "&amp;").replace('"', "&quot;")
            .replace("<", "&lt;").replace(">", "&gt;"))


def _encode64(digest: bytes) -> str:
    """phpass's base-64: three bytes, least significant first, make four characters."""
    output = []
    for start in range(0, len(digest), 3):
        group = digest[start:start + 3]
        value = int.from_bytes(group, "little")
        output.extend(ITOA64[(value >> shift) & 0x3F] for shift in range(0, 6 * (len(group) + 1), 6))
    return "".join(output)


def phpass_hash(password: str, setting: str) -> str | None:
    """The portable phpass hash of `password` with the setting (prefix, rounds, salt) of
    an existing hash; None when the setting is not one phpass writes."""
    if len(setting) < 12 or setting[:3] not in PHPASS_PREFIXES:
        return None
    rounds_log2 = ITOA64.find(setting[3])
    if not 7 <= rounds_log2 <= 30:
        return None
    salt, secret = setting[4:12].encode(), password.encode()
    digest = hashlib.md5(salt + secret).digest()
    for _round in range(1 << rounds_log2):
        digest = hashlib.md5(digest + secret).digest()
    return setting[:12] + _encode64(digest)


class PhpbbPasswordHasher(BasePasswordHasher):
    """Checks a password against a phpBB bcrypt or phpass hash; never makes one."""

    algorithm = "phpbb"
    library = "bcrypt"

    @staticmethod
    def recognises(phpbb_hash: str) -> bool:
        return phpbb_hash.startswith(BCRYPT_PREFIXES + PHPASS_PREFIXES)

    @classmethod
    def wrap(cls, phpbb_hash: str) -> str:
        """The stored form of a phpBB hash: Django finds the hasher by its prefix."""
        return f"{cls.algorithm}${phpbb_hash}"

    def encode(self, password, salt):
        raise NotImplementedError("phpBB hashes are only checked; Django's default hasher makes new ones.")

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, phpbb_hash = encoded.split("$", 1)
        if algorithm != self.algorithm:
            return False
        candidates = {password, _php_escaped(password), _php_escaped(password.strip())}
        return any(self._matches(candidate, phpbb_hash) for candidate in candidates)

    def _matches(self, password: str, phpbb_hash: str) -> bool:
        if phpbb_hash.startswith(BCRYPT_PREFIXES):
            bcrypt = self._load_library()
            try:
                return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], phpbb_hash.encode())
            except ValueError:  # a damaged hash
                return False
        expected = phpass_hash(password, phpbb_hash[:12])
        return expected is not None and hmac.compare_digest(expected, phpbb_hash)

    def decode(self, encoded: str) -> dict:
        algorithm, phpbb_hash = encoded.split("$", 1)
        kind = "bcrypt" if phpbb_hash.startswith(BCRYPT_PREFIXES) else "phpass"
        return {"algorithm": algorithm, "hash": phpbb_hash, "salt": None, "kind": kind}

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {_("algorithm"): f"{decoded['algorithm']} ({decoded['kind']})", _("hash"): mask_hash(decoded["hash"])}

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password, encoded):
        # A wrong password is always re-hashed by Django's default afterwards anyway
        # (must_update is True), so there is no gap in work factor to close.
        pass
