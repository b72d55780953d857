"""Password hashing and the rules for emails and passwords."""

from __future__ import annotations

import pytest

from n8nclone.auth import PASSWORD_MIN, check_email, check_password, hash_password, verify_password
from n8nclone.auth.passwords import needs_rehash
from n8nclone.errors import UserInputError


def test_a_password_is_stored_as_a_salted_argon2id_hash():
    # when the same password is hashed twice
    first, second = hash_password("correct horse"), hash_password("correct horse")

    # expect argon2id hashes, different (salted), that verify the password and only it
    assert first.startswith("$argon2id$") and first != second
    assert "correct horse" not in first
    assert verify_password(first, "correct horse") and verify_password(second, "correct horse")
    assert not verify_password(first, "correct horsE")
    assert not verify_password(first, "")
    assert not needs_rehash(first)


def test_a_hash_that_cannot_be_read_verifies_nothing():
    assert not verify_password("not-a-hash", "anything")
    assert not verify_password("", "anything")
    assert needs_rehash("not-a-hash")


@pytest.mark.parametrize("given, stored", [
    ("admin@example.com", "admin@example.com"),
    ("  Admin@Example.COM ", "admin@example.com"),
    ("me+tag@sub.example.org", "me+tag@sub.example.org"),
    ("admin@localhost", "admin@localhost"),
])
def test_emails_are_trimmed_and_lower_cased(given, stored):
    assert check_email(given) == stored


@pytest.mark.parametrize("email, fragment", [
    ("", "required"),
    ("   ", "required"),
    ("admin", "not an email"),
    ("@example.com", "not an email"),
    ("admin@", "not an email"),
    ("a b@example.com", "not an email"),
    ("admin@@example.com", "not an email"),
    ("admin@example..com", "not an email"),
    ("admin@.com", "not an email"),
    ("a" * 250 + "@x.io", "at most 254"),
])
def test_bad_emails_are_refused_with_a_reason(email, fragment):
    with pytest.raises(UserInputError, match=fragment):
        check_email(email)


def test_a_password_needs_at_least_8_characters():
    assert PASSWORD_MIN == 8
    assert check_password("12345678") == "12345678"
    for short in ("", "1234567", "short"):
        with pytest.raises(UserInputError, match="at least 8 characters"):
            check_password(short)
    with pytest.raises(UserInputError, match="at most"):
        check_password("x" * 5000)
