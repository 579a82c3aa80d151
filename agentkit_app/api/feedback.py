"""Readers' feedback over REST: rate a message of one's session, and the admin's list of every vote."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import AdminDep, PrincipalDep, ServiceDep
from agentkit_app.store.models import FEEDBACK_COMMENT_CHARS, FeedbackEntry, FeedbackPublic, FeedbackSummary

# under ``/api/v1/chat`` (its router checks the session is the caller's)
router = APIRouter()
# under ``/api/v1``, admins only
admin_router = APIRouter(prefix="/api/v1")


class FeedbackBody(BaseModel):
    """Body of ``PUT .../messages/{message_id}/feedback``: ``rating: null`` clears the caller's vote."""

    rating: Literal["up", "down"] | None
    comment: str = Field(
        default="",
        max_length=FEEDBACK_COMMENT_CHARS,
        pattern=r"^[^\x00]*$",
        description=f"why, in at most {FEEDBACK_COMMENT_CHARS} characters (no NUL)",
    )


class FeedbackReply(BaseModel):
    """The caller's vote on the message now (``feedback: null`` once cleared)."""

    message_id: str
    feedback: FeedbackPublic | None


@router.put("/sessions/{session_id}/messages/{message_id}/feedback", responses=error_responses(404, 422))
async def rate_message(
    session_id: str,
    message_id: Annotated[str, Path(max_length=64)],
    body: FeedbackBody,
    service: ServiceDep,
    principal: PrincipalDep,
) -> FeedbackReply:
    """Rate an answer, speech, conclusion or synthesis up or down, with an optional comment; one vote per caller.

    A new vote replaces the caller's earlier one on the message; ``rating: null`` clears it. 404 for
    a message not in the session (or a session not the caller's), 422 for a message nobody rates
    (a user's message, an error, a step of a run).
    """
    vote = await service.rate_message(session_id, message_id, body.rating, body.comment, principal)
    return FeedbackReply(message_id=message_id, feedback=vote)


@admin_router.get("/admin/feedback", tags=["admin"], responses=error_responses(401, 403, 404, 422))
async def list_feedback(
    principal: AdminDep,
    service: ServiceDep,
    agent: Annotated[
        str | None, Query(max_length=100, description="only votes on this agent's messages")
    ] = None,
    expert: Annotated[
        str | None, Query(max_length=100, description="only votes on this expert's speeches")
    ] = None,
    rating: Annotated[Literal["up", "down"] | None, Query(description="only thumbs up, or down")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        datetime | None, Query(description="only votes changed before this moment (paging: the last one's)")
    ] = None,
) -> list[FeedbackEntry]:
    """List readers' votes, newest first (by when last changed), filtered by agent, expert and rating."""
    return await service.feedback_list(
        principal, agent=agent, expert=expert, rating=rating, limit=limit, before=before
    )


@admin_router.get("/admin/feedback/summary", tags=["admin"], responses=error_responses(401, 403, 404))
async def feedback_summary(principal: AdminDep, service: ServiceDep) -> FeedbackSummary:
    """Count the thumbs up and down of each agent and each expert that has votes."""
    return await service.feedback_summary(principal)
