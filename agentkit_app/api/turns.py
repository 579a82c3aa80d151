"""The REST routes that run a turn and wait for its answer, and those that steer running turns.

A route that runs a turn follows the run to its end and answers with the stored assistant message;
an error event the run ended with becomes the HTTP status of the reply. ``POST .../messages`` asked
for an event stream answers with the run's events as they come instead (:mod:`agentkit_app.api.streams`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from agentkit_app.api.problems import StorableText, error_responses
from agentkit_app.api.security import PrincipalDep, ServiceDep
from agentkit_app.api.streams import event_stream, stream_responses, wants_stream
from agentkit_app.engine import events as ev
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.runs import Run
from agentkit_app.service.viewing import View
from agentkit_app.store.records import Intervention, dump_record

_ERROR_STATUS = {"invalid": 422, "llm": 502, "internal": 500}
# errors of a route that runs a turn and waits for its answer
TURN_ERRORS = error_responses(400, 404, 409, 422, 429, 502, 503)

router = APIRouter()


class MessageCreate(BaseModel):
    """Body of ``POST /sessions/{id}/messages``."""

    content: StorableText
    role: str = "user"
    execution_mode: StorableText | None = None
    model: StorableText | None = None
    language: StorableText | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    stream: bool = Field(
        default=False, description="answer as Server-Sent Events, as with Accept: text/event-stream"
    )


class Regenerate(BaseModel):
    """Body of ``POST /sessions/{id}/regenerate`` (all optional)."""

    model: StorableText | None = None
    language: StorableText | None = None


class MessageEdit(BaseModel):
    """Body of ``POST /sessions/{id}/messages/{message_id}/edit``."""

    content: StorableText
    model: StorableText | None = None
    language: StorableText | None = None


class ConfirmationReply(BaseModel):
    """Body of ``POST /sessions/{id}/confirmations/{confirmation_id}``."""

    approved: bool


class HumanReplyBody(BaseModel):
    """Body of ``POST /sessions/{id}/replies/{request_id}``."""

    content: StorableText = Field(max_length=8000)


class AssistantReply(BaseModel):
    """The answer of a turn: the stored assistant message, with which tier answered and why."""

    message_id: str | None
    session_id: str
    role: Literal["assistant"] = "assistant"
    content: str
    agent_name: str | None
    metadata: dict[str, Any]
    fallback_status: str | None
    error_struct: dict[str, Any] | None


class InterventionReply(BaseModel):
    """A message that reached the board meeting or team already running in the session, acknowledged."""

    role: Literal["user"] = "user"
    content: str
    session_id: str
    metadata: dict[str, Any]


TurnReply = AssistantReply | InterventionReply


class CancelReply(BaseModel):
    """How many running turns were cancelled."""

    cancelled: int


class ConfirmationAnswered(BaseModel):
    """The answer a pending confirmation got."""

    approved: bool


class QuestionAnswered(BaseModel):
    """The question that got its answer."""

    request_id: str


@router.post(
    "/sessions/{session_id}/messages",
    responses={
        **stream_responses(
            "the assistant message; or, asked with Accept: text/event-stream or stream: true, "
            "the turn's events as Server-Sent Events (the WebSocket's frames)"
        ),
        **TURN_ERRORS,
    },
)
async def post_message(
    session_id: str, body: MessageCreate, request: Request, service: ServiceDep, principal: PrincipalDep
) -> TurnReply:
    """Run a turn and wait for it; return the assistant message (or the acknowledged intervention).

    With ``Accept: text/event-stream`` or ``"stream": true`` the turn's events are sent as they
    come, as Server-Sent Events, each with an ``id`` to resume from with ``GET .../stream``; a client
    that disconnects does not stop the turn. Refusals (busy 409, quota 429, ...) come before the
    stream starts, as the same error replies.

    A signed-in user over a department quota gets 429 with ``quota_info``, and nothing is stored.
    """
    if body.role != "user":
        raise HTTPException(status_code=422, detail="only user messages start a turn")
    run = await service.start_turn(
        TurnRequest(
            session_id=session_id,
            content=body.content,
            model=body.model,
            execution_mode=body.execution_mode,
            language=body.language,
            attachments=body.attachments,
            principal=principal,
        )
    )
    if wants_stream(request, body.stream):
        return event_stream([View(run)])  # type: ignore[return-value]  # an answer of its own type
    return await _answer_of(run, session_id)


@router.post("/sessions/{session_id}/regenerate", responses=TURN_ERRORS)
async def regenerate(
    session_id: str, service: ServiceDep, principal: PrincipalDep, body: Regenerate | None = None
) -> TurnReply:
    """Answer the last question again; the earlier answer stays as an alternative (409 while a turn runs)."""
    body = body or Regenerate()
    run = await service.regenerate(session_id, body.model, body.language, principal)
    return await _answer_of(run, session_id)


@router.post("/sessions/{session_id}/messages/{message_id}/edit", responses=TURN_ERRORS)
async def edit_message(
    session_id: str, message_id: str, body: MessageEdit, service: ServiceDep, principal: PrincipalDep
) -> TurnReply:
    """Resend an edited user message: the conversation forks there and the old branch is kept."""
    run = await service.edit_message(
        session_id, message_id, body.content, body.model, body.language, principal=principal
    )
    return await _answer_of(run, session_id)


@router.post("/sessions/{session_id}/team/resume", responses=TURN_ERRORS)
async def resume_team(session_id: str, service: ServiceDep, principal: PrincipalDep) -> TurnReply:
    """Resume the team run a server crash interrupted, from its last checkpoint; wait for its result."""
    return await _answer_of(await service.resume_team(session_id, principal), session_id)


async def _answer_of(run: Run, session_id: str) -> TurnReply:
    """Follow a run to its end and return the assistant message, or raise the HTTP error it ended with."""
    answer: ev.FinalAnswer | None = None
    error: ev.Error | None = None
    async for event in run.follow():
        if isinstance(event, ev.FinalAnswer):
            answer = event
        elif isinstance(event, ev.Error):
            error = event
        elif isinstance(event, ev.Result) and event.status == "cancelled":
            raise HTTPException(status_code=409, detail="the turn was cancelled")
        elif isinstance(event, ev.TeamInterventionAck):
            return InterventionReply(
                content=event.content, session_id=session_id, metadata=dump_record(Intervention())
            )
    if answer is None:
        detail = error.message if error else "the turn ended without an answer"
        raise HTTPException(
            status_code=_ERROR_STATUS.get(error.code or "", 500) if error else 500, detail=detail
        )
    meta = answer.metadata
    return AssistantReply(
        message_id=meta.get("message_id"),
        session_id=session_id,
        content=answer.content,
        agent_name=meta.get("agent_name"),
        metadata=meta,
        fallback_status=meta.get("fallback_status", "main"),
        error_struct=meta.get("error_struct"),
    )


@router.post("/sessions/{session_id}/cancel", responses=error_responses(404, 422))
async def cancel_turns(session_id: str, service: ServiceDep) -> CancelReply:
    """Cancel the session's running turns."""
    return CancelReply(cancelled=await service.cancel(session_id))


@router.post("/sessions/{session_id}/confirmations/{confirmation_id}", responses=error_responses(404, 422))
async def answer_confirmation(
    session_id: str, confirmation_id: str, body: ConfirmationReply, service: ServiceDep
) -> ConfirmationAnswered:
    """Approve or deny a pending confirmation (404 if nothing waits under that id)."""
    if not await service.answer(session_id, confirmation_id, body.approved):
        raise HTTPException(status_code=404, detail="no pending confirmation with that id")
    return ConfirmationAnswered(approved=body.approved)


@router.post("/sessions/{session_id}/replies/{request_id}", responses=error_responses(404, 422))
async def answer_question(
    session_id: str, request_id: str, body: HumanReplyBody, service: ServiceDep
) -> QuestionAnswered:
    """Answer a pending ask-human question (404 if nothing waits under that id)."""
    if not await service.answer(session_id, request_id, body.content):
        raise HTTPException(status_code=404, detail="no pending question with that id")
    return QuestionAnswered(request_id=request_id)
