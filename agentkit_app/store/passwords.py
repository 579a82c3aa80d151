"""Password hashes: Argon2id (argon2-cffi) for every new one; scrypt hashes of earlier versions still verify.

A stored hash whose scheme or Argon2 parameters are older than :data:`HASHER`'s is upgraded the next
time its owner signs in (see :func:`needs_rehash`), since only then is the password at hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["HASHER", "dummy_hash", "hash_password", "needs_rehash", "verify_password"]

# OWASP's password storage cheat sheet, first Argon2id configuration: 19 MiB, 2 passes, 1 lane.
# Tens of milliseconds per hash here; a sign-in flood is bounded by the sign-in throttle and the
# thread pool the checks run in, so memory use stays a few hashes' worth.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_SCRYPT_PREFIX = "scrypt$"
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password`` (PHC string ``$argon2id$v=19$m=...``) with a new random salt."""
    return HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Return whether ``password`` matches ``stored``: an Argon2 hash, or a legacy ``scrypt$N$r$p$salt$hash``.

    Anything else, malformed hashes included, matches nothing.
    """
    if stored.startswith(_SCRYPT_PREFIX):
        return _verify_scrypt(password, stored)
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Return whether ``stored`` should be replaced by a new hash: scrypt, or Argon2 with other parameters."""
    if stored.startswith(_SCRYPT_PREFIX):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return False


@cache
def dummy_hash() -> str:
    """Return a hash of a random password, checked for unknown users so that they answer as slowly as known ones."""
    return hash_password(secrets.token_hex(16))


def _verify_scrypt(password: str, stored: str) -> bool:
    """Check a hash written by the scrypt scheme this app used before Argon2id (constant-time comparison)."""
    try:
        _, n, r, p, salt, expected = stored.split("$")
        want = base64.b64decode(expected)
        digest = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
            maxmem=_SCRYPT_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, want)
