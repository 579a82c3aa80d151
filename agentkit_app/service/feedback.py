"""Readers' feedback: a thumbs up or down, with an optional comment, on answers, speeches, conclusions and syntheses.

:class:`FeedbackDesk` is a base of ``ChatService``: the web UI and REST cast votes and read them
through it. A reader rates messages of the sessions they may see, one vote per reader and message
(a new vote replaces theirs; ``None`` clears it); admins list every vote.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agentkit_app.service.access import enabled_access
from agentkit_app.service.errors import InvalidInput, NotFound
from agentkit_app.store.feedback import FeedbackStore, UnknownMessage
from agentkit_app.store.models import (
    FEEDBACK_COMMENT_CHARS,
    FeedbackEntry,
    FeedbackPublic,
    FeedbackSummary,
    MessagePublic,
    Rating,
    SessionPublic,
    rateable,
)
from agentkit_app.store.records import BoardSpeech, BoardSummary

if TYPE_CHECKING:
    from agentkit_app.service.access import AccessControl, Principal
    from agentkit_app.store.sessions import SessionManager

__all__ = ["FEEDBACK_COMMENT_CHARS", "FeedbackDesk", "checked_rating", "voter_of"]


def voter_of(principal: Principal | None) -> str:
    """Return who votes for ``principal``: their user id, or "" without an account (accounts off, API key)."""
    return (principal.user_id if principal else None) or ""


def checked_rating(rating: str | None) -> Rating | None:
    """Return ``rating`` as a :class:`Rating` (None: clear the vote).

    Raises:
        InvalidInput: anything but ``up``, ``down`` or None.
    """
    if rating is None or rating == "":
        return None
    try:
        return Rating(rating)
    except ValueError:
        raise InvalidInput("rating must be up, down or null", "err_feedback_rating") from None


class FeedbackDesk:
    """Votes on messages: cast, change, clear, read one's own, and list them all (admins)."""

    feedback: FeedbackStore
    store: SessionManager
    access: AccessControl | None

    if TYPE_CHECKING:

        async def session_or_404(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
            """Return the session, or raise NotFound (also when it is not ``principal``'s to see)."""

    async def rate_message(
        self,
        session_id: str,
        message_id: str,
        rating: str | None,
        comment: str = "",
        principal: Principal | None = None,
    ) -> FeedbackPublic | None:
        """Cast, change or (``rating=None``) clear ``principal``'s vote on a message; return the vote now.

        Raises:
            NotFound: the session is unknown or not ``principal``'s to see, or the message is not in it.
            InvalidInput: a rating other than up or down, a comment over :data:`FEEDBACK_COMMENT_CHARS`,
                or a message nobody rates (the user's own, an error, a step of a run).
        """
        verdict = checked_rating(rating)
        comment = comment.replace("\x00", "").strip()
        if len(comment) > FEEDBACK_COMMENT_CHARS:
            raise InvalidInput(
                f"a comment has at most {FEEDBACK_COMMENT_CHARS} characters",
                "err_feedback_comment",
                limit=FEEDBACK_COMMENT_CHARS,
            )
        session = await self.session_or_404(session_id, principal)
        message = await self.feedback.message(session.session_id, message_id)
        if message is None:
            raise NotFound("message not found", "err_message_missing")
        record = message.record
        if not rateable(record):
            raise InvalidInput(
                "only answers, speeches, conclusions and syntheses can be rated", "err_not_rateable"
            )
        try:
            return await self.feedback.vote(
                message_id=message.message_id,
                session_id=session.session_id,
                voter=voter_of(principal),
                rating=verdict,
                comment=comment,
                agent_name=message.agent_name or session.agent_name,
                expert_name=record.expert_name if isinstance(record, BoardSpeech | BoardSummary) else None,
                message_type=record.message_type.value,
            )
        except UnknownMessage:  # deleted with its session meanwhile
            raise NotFound("message not found", "err_message_missing") from None

    async def messages_with_votes(
        self,
        session_id: str,
        principal: Principal | None,
        *,
        limit: int | None = None,
        offset: int = 0,
        branch: str = "active",
    ) -> list[MessagePublic]:
        """Return a session's messages (as :meth:`messages` does) with ``principal``'s own vote on each one they rated.

        The votes are read beside the messages, not after them.
        """
        messages, votes = await asyncio.gather(
            self.store.get_messages(session_id, limit=limit, offset=offset, branch=branch),
            self.feedback.votes_in_session(voter_of(principal), session_id),
        )
        for message in messages:
            message.feedback = votes.get(message.message_id)
        return messages

    async def feedback_list(
        self,
        principal: Principal,
        *,
        agent: str | None = None,
        expert: str | None = None,
        rating: str | None = None,
        limit: int = 50,
        before: datetime | None = None,
    ) -> list[FeedbackEntry]:
        """Return votes newest first, filtered by agent, expert and rating (admins only).

        Raises:
            AccountsDisabled: accounts are off.
            Forbidden: ``principal`` is not an admin.
            InvalidInput: a rating other than up or down.
        """
        enabled_access(self.access).require_admin(principal)
        verdict = checked_rating(rating)
        until = None
        if before is not None:
            try:  # a moment without a zone is UTC; compared in UTC, as the database keeps it
                until = (before if before.tzinfo else before.replace(tzinfo=UTC)).astimezone(UTC)
            except OverflowError:  # within hours of year 1 (before every vote) or of year 9999 (after all)
                if before.year < 5000:
                    return []
        return await self.feedback.listing(
            agent=agent or None,
            expert=expert or None,
            rating=verdict,
            limit=max(1, min(limit, 200)),
            before=until,
        )

    async def feedback_summary(self, principal: Principal) -> FeedbackSummary:
        """Return the thumbs up and down of each agent and expert that has votes (admins only)."""
        enabled_access(self.access).require_admin(principal)
        return await self.feedback.tally()
