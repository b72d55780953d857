"""Password hashing (argon2id, argon2-cffi's defaults) and the rules for emails and
passwords."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from n8nclone.errors import UserInputError

PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 takes any length; a cap keeps a request from costing much
EMAIL_MAX = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)*")

_hasher = PasswordHasher()


def check_email(email: str) -> str:
    """The email as stored (trimmed, lower-cased), or UserInputError saying what is wrong."""
    if not isinstance(email, str) or not email.strip():
        raise UserInputError("an email is required")
    email = email.strip().lower()
    if len(email) > EMAIL_MAX:
        raise UserInputError(f"an email is at most {EMAIL_MAX} characters")
    if not _EMAIL.fullmatch(email):
        raise UserInputError(f"{email!r} is not an email address (name@example.com)")
    return email


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise UserInputError(f"a password must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise UserInputError(f"a password is at most {PASSWORD_MAX} characters")
    return password


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (salted; the parameters are part of the string)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; False for a hash we cannot read."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's (rehash on login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# Verified against when the email is unknown, so a wrong email costs as long as a wrong
# password and the answer's timing does not tell which emails have accounts.
_DUMMY_HASH = hash_password("not a password: timing equaliser")


def waste_a_verification(password: str) -> None:
    verify_password(_DUMMY_HASH, password)
