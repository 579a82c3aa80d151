"""Read-only share links to a conversation: made and revoked by its owner (or an admin), opened by token.

:class:`ShareDesk` is a base of ``ChatService``. A link is ``/share/<token>``, the token 256 random
bits (``secrets.token_urlsafe(32)``), so links cannot be guessed or counted through; a token of any
other shape is refused before the database is asked. Unknown and revoked links get the same answer.
A ``signed_in`` link needs a reader the deployment lets in; a ``public`` one needs nobody. The reader
gets the conversation as its owner sees it (the branch shown, cards and steps), and nothing else:
not the owner, not their votes, not the other versions of a message.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from agentkit_app.service.errors import Conflict, InvalidInput, NotFound, Unauthorized
from agentkit_app.store.models import (
    AwareDatetime,
    MessagePublic,
    SessionKind,
    SessionPublic,
    SharePublic,
    ShareVisibility,
)
from agentkit_app.store.shares import ShareStore, TooManyShares, UnknownSession

if TYPE_CHECKING:
    from agentkit_app.service.access import AccessControl, Principal
    from agentkit_app.store.sessions import SessionManager

__all__ = ["MAX_SHARES_PER_SESSION", "ShareCreate", "ShareDesk", "SharedConversation", "well_formed_token"]

MAX_SHARES_PER_SESSION = 20
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def well_formed_token(token: str) -> bool:
    """Return whether ``token`` has the shape of a share token (43 URL-safe characters)."""
    return len(token) == 43 and _TOKEN.fullmatch(token) is not None


class ShareCreate(BaseModel):
    """A new link: ``POST /sessions/{id}/shares`` and the share dialog."""

    visibility: ShareVisibility | None = Field(
        default=None,
        description="signed_in: readers must sign in; public: anyone with the link. "
        "Default: signed_in with user accounts on, else public",
    )


class SharedSession(BaseModel):
    """What a shared link shows of its session: its name and kind, never its owner."""

    title: str
    agent_name: str
    kind: SessionKind
    created_at: AwareDatetime
    updated_at: AwareDatetime


class SharedConversation(BaseModel):
    """A conversation opened through a share link: read only, as its owner sees it."""

    session: SharedSession
    visibility: ShareVisibility
    shared_at: AwareDatetime
    messages: list[MessagePublic] = Field(
        description="the branch the owner sees, in order, with metadata (cards, steps); no votes, no other versions"
    )


class ShareDesk:
    """Share links: make, list, revoke (owners and admins), and open by token (readers)."""

    store: SessionManager
    access: AccessControl | None
    shares: ShareStore

    if TYPE_CHECKING:

        async def session_or_404(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
            """Return the session, or raise NotFound (also when it is not ``principal``'s to see)."""

    @property
    def accounts_on(self) -> bool:
        """Return whether readers sign in with user accounts."""
        return self.access is not None and self.access.enabled

    async def create_share(
        self, session_id: str, principal: Principal | None, visibility: ShareVisibility | str | None = None
    ) -> SharePublic:
        """Make a read-only link to a session ``principal`` may see; return it with its token.

        Raises:
            NotFound: the session is unknown or not ``principal``'s.
            InvalidInput: a visibility other than ``signed_in`` or ``public``.
            Conflict: the session has :data:`MAX_SHARES_PER_SESSION` live links already.
        """
        session = await self.session_or_404(session_id, principal)
        try:
            chosen = ShareVisibility(visibility) if visibility else self.default_visibility
        except ValueError:
            raise InvalidInput("visibility must be signed_in or public", "share_err_visibility") from None
        try:
            return await self.shares.create(
                share_id=secrets.token_hex(8),
                token=secrets.token_urlsafe(32),
                session_id=session.session_id,
                created_by=principal.user_id if principal else None,
                visibility=chosen,
                most=MAX_SHARES_PER_SESSION,
            )
        except TooManyShares:
            raise Conflict(
                f"at most {MAX_SHARES_PER_SESSION} links per conversation: revoke one first",
                "share_err_too_many",
                most=MAX_SHARES_PER_SESSION,
            ) from None
        except UnknownSession:  # deleted meanwhile
            raise NotFound("session not found", "session_missing") from None

    @property
    def default_visibility(self) -> ShareVisibility:
        """Return who may open a new link unless its maker says: signed-in readers when accounts are on."""
        return ShareVisibility.SIGNED_IN if self.accounts_on else ShareVisibility.PUBLIC

    async def shares_of(self, session_id: str, principal: Principal | None) -> list[SharePublic]:
        """Return the live links of a session ``principal`` may see, newest first (NotFound otherwise)."""
        session = await self.session_or_404(session_id, principal)
        return await self.shares.of_session(session.session_id)

    async def revoke_share(self, session_id: str, share_id: str, principal: Principal | None) -> None:
        """Revoke a link of a session ``principal`` may see: it stops working at once.

        Raises:
            NotFound: the session is not ``principal``'s, or it has no such live link.
        """
        session = await self.session_or_404(session_id, principal)
        if len(share_id) > 16 or not await self.shares.revoke(session.session_id, share_id):
            raise NotFound("share link not found", "share_err_gone")

    async def open_share(self, token: str, reader: Principal | None) -> SharedConversation:
        """Return the conversation behind a live link; ``reader`` is None for a visitor nobody let in.

        Raises:
            NotFound: a malformed, unknown or revoked token (one answer for all), or a deleted session.
            Unauthorized: the link is for signed-in readers and ``reader`` is None.
        """
        share = await self.shares.find(token) if well_formed_token(token) else None
        if share is None:
            raise NotFound("share link not found", "share_missing")
        if share.visibility == ShareVisibility.SIGNED_IN and reader is None:
            raise Unauthorized("sign in to read this shared conversation", "share_sign_in")
        session = await self.store.get_session(share.session_id)
        if session is None:
            raise NotFound("share link not found", "share_missing")
        messages = await self.store.get_messages(session.session_id)
        for message in messages:
            message.alternatives, message.feedback = [], None
        return SharedConversation(
            session=SharedSession(
                title=session.title or session.agent_name,
                agent_name=session.agent_name,
                kind=session.kind,
                created_at=session.created_at,
                updated_at=session.updated_at,
            ),
            visibility=share.visibility,
            shared_at=share.created_at,
            messages=messages,
        )
