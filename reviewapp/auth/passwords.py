"""argon2id hashing with rehash-on-login when the parameters change."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# Verifying against this keeps the timing of "unknown user" close to "wrong password".
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")

_SLIP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password(length: int = 12) -> str:
    """A one-time password that is easy to read off a printed slip (no 0/O, 1/l/I), with lower case, upper case
    and digits so that it meets any complexity policy of up to three character classes."""
    while True:
        password = "".join(secrets.choice(_SLIP_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password
