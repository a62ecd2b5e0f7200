"""accounts.hashers.PhpbbPasswordHasher: members imported from phpBB keep their passwords
(issue 20). The login and the upgrade to Django's hasher are in
tests/community/test_import_phpbb.py; these check the algorithms."""

import pytest

from accounts.hashers import PhpbbPasswordHasher, phpass_hash
from tests.community.phpbb_source import bcrypt_hash, phpass_hash as independent_phpass_hash

hasher = PhpbbPasswordHasher()
wrap = PhpbbPasswordHasher.wrap


def test_phpass_matches_the_reference_test_vector():
    # The test vector shipped with phpass itself (test.php).
    assert phpass_hash("test12345", "$P$9IQRaTwmf") == "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"
    assert hasher.verify("test12345", wrap("$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"))


@pytest.mark.parametrize("phpbb_hash, password", [
    (independent_phpass_hash("s3cret pass"), "s3cret pass"),  # phpBB 3.0's $H$
    (independent_phpass_hash("s3cret", prefix="$P$", salt="Zy.9/abc", rounds_log2=8), "s3cret"),
    (bcrypt_hash("s3cret pass"), "s3cret pass"),  # phpBB 3.1+'s $2y$
], ids=["phpass-H", "phpass-P", "bcrypt-2y"])  # the salts are random; xdist workers must agree on ids
def test_phpbb_hasher_verifies_phpbb_hashes(phpbb_hash, password):
    assert hasher.verify(password, wrap(phpbb_hash))
    assert not hasher.verify(password + "!", wrap(phpbb_hash))
    assert not hasher.verify("", wrap(phpbb_hash))


def test_phpbb_hasher_reads_72_bytes_of_a_long_password_as_php_did():
    assert hasher.verify("x" * 80, wrap(bcrypt_hash("x" * 80)))


def test_phpbb_hasher_accepts_what_phpbb_hashed_html_escaped():
    # phpBB's request layer applies htmlspecialchars before the password is hashed.
    assert hasher.verify('a&b<"c">', wrap(bcrypt_hash("a&amp;b&lt;&quot;c&quot;&gt;")))


@pytest.mark.parametrize("damaged", [
    "$2y$10$short", "$H$", "$H$Zabcdefgh" + "x" * 22, "$P$!abcdefgh" + "x" * 22, "",
])
def test_phpbb_hasher_refuses_damaged_hashes(damaged):
    assert not hasher.verify("anything", wrap(damaged))


def test_phpbb_hasher_only_checks_and_always_asks_for_an_upgrade():
    encoded = wrap(bcrypt_hash("pw"))
    assert hasher.must_update(encoded)
    with pytest.raises(NotImplementedError):
        hasher.encode("pw", "salt")
    summary = hasher.safe_summary(encoded)
    assert encoded.split("$", 1)[1] not in str(summary) and "bcrypt" in str(summary)
