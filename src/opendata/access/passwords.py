"""Hashing what people and programs authenticate with.

Passwords are chosen by people, so they get argon2id (slow, memory-hard). Session tokens
and client secrets are 256-bit random strings we generate: nobody can enumerate them, so
a plain SHA-256 digest is enough to keep them unusable if the table leaks, and it lets us
find a session by its digest in one indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from opendata.errors import bad_request

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256  # argon2 takes any length; this only stops absurd request bodies


def make_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults: RFC 9106's low-memory profile (64 MiB, 3 passes)."""
    return PasswordHasher()


_hasher = make_hasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def burn_verification_time(password: str) -> None:
    """Spend what a real verification costs, so that an unknown user name answers as
    slowly as a wrong password and response times do not reveal which accounts exist."""
    verify_password(_dummy_hash(), password)


def check_password_strength(password: str, *, username: str) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise bad_request("weak_password", f"a password needs at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise bad_request("weak_password", f"a password has at most {PASSWORD_MAX_LENGTH} characters")
    if username.lower() in password.lower():
        raise bad_request("weak_password", "a password must not contain the user name")
    if len(set(password)) < 4:
        raise bad_request("weak_password", "a password needs at least 4 different characters")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
