"""Password hashing with Argon2id (memory-hard), through argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # library defaults follow RFC 9106's second recommended profile

# Verified against when the username does not exist, so both paths cost one hash.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        matched = _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    # An empty hash stands for "no account" too: the dummy's own password must not open it.
    return matched and bool(password_hash)
