"""Personal API tokens: made, listed, revoked, and turned back into their user for each request.

A token reads ``ak_<id>_<secret>``: ``ak_`` tells it from a sign-in token and from the deployment's API
key, ``<id>`` (12 hex digits) is public and names it in lists, and ``<secret>`` is 256 random bits.
Only the SHA-256 of the whole token is stored: with that much randomness a fast hash is as safe as a
slow one, and a request's token is found by its hash in one indexed read, so nothing about a stored
token is compared byte by byte with what a client sent.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from agentkit_app.service.errors import Conflict, NotFound, Unauthorized
from agentkit_app.store.models import ApiTokenPublic, utcnow
from agentkit_app.store.tokens import ApiTokenStore, TokenHolder, TooManyTokens, UnknownUser

__all__ = [
    "MAX_TOKENS_PER_USER",
    "PREFIX",
    "PersonalTokens",
    "TokenCreate",
    "TokenCreated",
    "is_personal_token",
    "token_hash",
]

PREFIX = "ak_"
MAX_TOKENS_PER_USER = 50
_ID_HEX = 12
_SHAPE = re.compile(rf"ak_([0-9a-f]{{{_ID_HEX}}})_[A-Za-z0-9_-]{{43}}")
# longer than any well-formed token: refused before the pattern is even tried
_LONGEST = len(PREFIX) + _ID_HEX + 1 + 43


def _collapse_blanks(value: object) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


# runs of whitespace collapse to one blank before the length is checked, so a blank name is refused
TokenName = Annotated[str, BeforeValidator(_collapse_blanks), Field(min_length=1, max_length=100)]


class TokenCreate(BaseModel):
    """A new token: ``POST /auth/tokens`` and the tokens page's form."""

    name: TokenName = Field(
        description="what the token is for, to tell it from the others (1-100 characters)"
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="days until the token stops working; null: never"
    )


class TokenCreated(ApiTokenPublic):
    """A token just made: the only time its secret is shown."""

    token: str = Field(description="the token itself; it is not stored and cannot be shown again")


def is_personal_token(credential: str | None) -> bool:
    """Return whether ``credential`` claims to be a personal API token (starts with ``ak_``)."""
    return bool(credential) and str(credential).startswith(PREFIX)


def token_hash(token: str) -> str:
    """Return the SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class PersonalTokens:
    """The personal API tokens of a deployment with accounts on; callers have checked who may do what."""

    def __init__(self, store: ApiTokenStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self._clock = clock

    async def create(self, user_id: str, new: TokenCreate) -> TokenCreated:
        """Make a token for ``user_id`` and return it with its secret (shown this once).

        Raises:
            Conflict: the user holds :data:`MAX_TOKENS_PER_USER` tokens already (``tokens_err_too_many``).
            NotFound: no such user.
        """
        token_id = secrets.token_hex(_ID_HEX // 2)
        token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        expires_at = self._clock() + timedelta(days=new.expires_in_days) if new.expires_in_days else None
        try:
            made = await self.store.create(
                token_id=token_id,
                token_hash=token_hash(token),
                user_id=user_id,
                name=new.name,
                expires_at=expires_at,
                most=MAX_TOKENS_PER_USER,
            )
        except TooManyTokens:
            raise Conflict(
                f"at most {MAX_TOKENS_PER_USER} tokens per user: revoke one first",
                "tokens_err_too_many",
                most=MAX_TOKENS_PER_USER,
            ) from None
        except UnknownUser:
            raise NotFound("user not found", "tokens_err_failed") from None
        return TokenCreated(**made.model_dump(), token=token)

    async def list(self, user_id: str | None = None) -> list[ApiTokenPublic]:
        """Return the tokens of ``user_id`` (None: everyone's), newest first."""
        return await self.store.list(user_id)

    async def revoke(self, token_id: str, user_id: str | None = None) -> None:
        """Delete a token at once; with ``user_id``, only one of theirs.

        Raises:
            NotFound: no such token (or not theirs: the same answer, so ids of others cannot be probed).
        """
        if len(token_id) > _ID_HEX or not await self.store.delete(token_id, user_id):
            raise NotFound("token not found", "tokens_err_gone")

    async def holder(self, token: str) -> TokenHolder:
        """Return the token's id and its user's standing.

        Raises:
            Unauthorized: malformed, unknown, revoked or expired (one message for all).
        """
        if len(token) > _LONGEST or _SHAPE.fullmatch(token) is None:
            raise Unauthorized("invalid or expired API token")
        found = await self.store.find(token_hash(token), self._clock())
        if found is None:
            raise Unauthorized("invalid or expired API token")
        return found
