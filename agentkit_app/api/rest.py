"""The REST routes under ``/api/v1/chat``."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from python_multipart.exceptions import MultipartParseError

from agentkit_app.api.multipart_upload import MalformedUpload, receive_file
from agentkit_app.api.problems import StorableText, error_responses
from agentkit_app.api.security import PrincipalDep, ServiceDep, authorize_session
from agentkit_app.engine import events as ev
from agentkit_app.service.chat import TurnRequest
from agentkit_app.service.runs import Run
from agentkit_app.service.uploads import UploadTooLarge
from agentkit_app.store.models import MessagePublic, SessionPublic
from agentkit_app.store.search import SearchHit

_ERROR_STATUS = {"invalid": 422, "llm": 502, "internal": 500}
MAX_OFFSET = 2**31 - 1  # databases take no larger OFFSET (SQLite: 64-bit), and no list is that long
# Sent with every file a user or the model wrote (downloads, exports): the browser neither guesses
# another type nor runs anything in it, even when it is opened as a page of the app's origin.
PASSIVE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
}


# errors of a route that runs a turn and waits for its answer
TURN_ERRORS = error_responses(400, 404, 409, 422, 429, 502, 503)

# every route needs credentials; a route about a session answers 404 when it is not the caller's
router = APIRouter(
    prefix="/api/v1/chat",
    dependencies=[Depends(authorize_session)],
    tags=["chat"],
    responses=error_responses(401),
)


class SessionUpdate(BaseModel):
    """Body of ``PATCH /sessions/{id}``: a new title, pinned or not, ``status: "active"`` to restore it."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    pinned: bool | None = None
    status: Literal["active"] | None = None


class SessionCreate(BaseModel):
    """Body of ``POST /sessions``."""

    agent_name: str = Field(min_length=1, max_length=100)
    metadata: dict[str, Any] | None = None


class MessageCreate(BaseModel):
    """Body of ``POST /sessions/{id}/messages``."""

    content: StorableText
    role: str = "user"
    execution_mode: StorableText | None = None
    model: StorableText | None = None
    language: StorableText | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list, max_length=10)


class Regenerate(BaseModel):
    """Body of ``POST /sessions/{id}/regenerate`` (all optional)."""

    model: StorableText | None = None
    language: StorableText | None = None


class MessageEdit(BaseModel):
    """Body of ``POST /sessions/{id}/messages/{message_id}/edit``."""

    content: StorableText
    model: StorableText | None = None
    language: StorableText | None = None


class BranchSwitch(BaseModel):
    """Body of ``POST /sessions/{id}/branch``."""

    message_id: str = Field(min_length=1, max_length=64)


class ConfirmationReply(BaseModel):
    """Body of ``POST /sessions/{id}/confirmations/{confirmation_id}``."""

    approved: bool


class UploadReply(BaseModel):
    """A stored upload: attach it by ``stored_name``; ``content_type`` is the type it is served with."""

    filename: str
    stored_name: str
    content_type: str
    size: int
    download_url: str


class HumanReplyBody(BaseModel):
    """Body of ``POST /sessions/{id}/replies/{request_id}``."""

    content: StorableText = Field(max_length=8000)


@router.get("/agents")
async def list_agents(service: ServiceDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """List the agents a session can be bound to, each with the tools it can use here for the caller.

    The shell is left out where no sandbox can start, and for a user whose department does not allow it.
    """
    usable = service.tools.usable(service.config.tool_context, sandboxed=principal.shell_allowed).names()
    return [
        {
            "name": a.name,
            "display_name": a.display_name,
            "description": a.description,
            "tools": [name for name in a.tools if name in usable],
        }
        for a in service.catalog.agents.values()
    ]


@router.get("/sessions", responses=error_responses(422))
async def list_sessions(
    service: ServiceDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[SessionPublic]:
    """List sessions, newest first (a signed-in user's own; admins and API-key clients see all)."""
    return await service.list_sessions(principal, limit=limit, offset=offset)


@router.post("/sessions", status_code=201, responses=error_responses(404, 422))
async def create_session(body: SessionCreate, service: ServiceDep, principal: PrincipalDep) -> SessionPublic:
    """Create a session bound to an agent, owned by the signed-in user (404 for an unknown agent)."""
    return await service.create_session(body.agent_name, body.metadata, principal)


@router.get("/sessions/{session_id}", responses=error_responses(404, 422))
async def get_session(session_id: str, service: ServiceDep) -> SessionPublic:
    """Return one session."""
    return await service.session_or_404(session_id)


@router.patch("/sessions/{session_id}", responses=error_responses(404, 409, 422))
async def update_session(
    session_id: str, body: SessionUpdate, service: ServiceDep, principal: PrincipalDep
) -> SessionPublic:
    """Rename, pin or restore a session; a name given by a user is never replaced by a generated title."""
    return await service.update_session(
        session_id, title=body.title, pinned=body.pinned, status=body.status, principal=principal
    )


@router.get("/sessions/{session_id}/messages", responses=error_responses(404, 422))
async def get_messages(
    session_id: str,
    service: ServiceDep,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    branch: Annotated[
        str, Query(pattern="^(active|all)$", description="active (shown) branch, or all messages")
    ] = "active",
) -> list[MessagePublic]:
    """Return the session's messages in conversation order, with their metadata and alternatives."""
    await service.session_or_404(session_id)
    return await service.messages(session_id, limit=limit, offset=offset, branch=branch)


@router.post("/sessions/{session_id}/regenerate", responses=TURN_ERRORS)
async def regenerate(
    session_id: str, service: ServiceDep, principal: PrincipalDep, body: Regenerate | None = None
) -> dict[str, Any]:
    """Answer the last question again; the earlier answer stays as an alternative (409 while a turn runs)."""
    body = body or Regenerate()
    run = await service.regenerate(session_id, body.model, body.language, principal)
    return await _answer_of(run, session_id)


@router.post("/sessions/{session_id}/messages/{message_id}/edit", responses=TURN_ERRORS)
async def edit_message(
    session_id: str, message_id: str, body: MessageEdit, service: ServiceDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Resend an edited user message: the conversation forks there and the old branch is kept."""
    run = await service.edit_message(
        session_id, message_id, body.content, body.model, body.language, principal=principal
    )
    return await _answer_of(run, session_id)


@router.post("/sessions/{session_id}/branch", responses=error_responses(404, 409, 422))
async def switch_branch(session_id: str, body: BranchSwitch, service: ServiceDep) -> list[MessagePublic]:
    """Show the branch through a message (an alternative answer or edit); return the branch's messages."""
    return await service.switch_branch(session_id, body.message_id)


@router.get("/search", responses=error_responses(422))
async def search(
    service: ServiceDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="words or a phrase")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[SearchHit]:
    """Search message text and board topics across the sessions the caller may see, best match first."""
    try:
        return await service.search(principal, q, limit)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get(
    "/sessions/{session_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "the session as a file (attachment)",
            "content": {"text/markdown": {"schema": {"type": "string"}}, "application/json": {}},
        },
        **error_responses(404, 422),
    },
)
async def export(
    session_id: str,
    service: ServiceDep,
    format: Annotated[str, Query(pattern="^(md|json)$", description="md or json")] = "md",  # noqa: A002
) -> Response:
    """Download the session as Markdown or JSON (board rounds and team phases kept as structure)."""
    session = await service.session_or_404(session_id)
    body, media_type, filename = await service.export(session, format)
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(
        body, media_type=media_type, headers={**PASSIVE_HEADERS, "Content-Disposition": disposition}
    )


@router.post("/sessions/{session_id}/messages", responses=TURN_ERRORS)
async def post_message(
    session_id: str, body: MessageCreate, service: ServiceDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Run a turn and wait for it; return the assistant message (or the acknowledged intervention).

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
    return await _answer_of(run, session_id)


@router.post("/sessions/{session_id}/team/resume", responses=TURN_ERRORS)
async def resume_team(session_id: str, service: ServiceDep, principal: PrincipalDep) -> dict[str, Any]:
    """Resume the team run a server crash interrupted, from its last checkpoint; wait for its result."""
    return await _answer_of(await service.resume_team(session_id, principal), session_id)


async def _answer_of(run: Run, session_id: str) -> dict[str, Any]:
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
            return {
                "role": "user",
                "content": event.content,
                "session_id": session_id,
                "metadata": {"message_type": "intervention"},
            }
    if answer is None:
        detail = error.message if error else "the turn ended without an answer"
        raise HTTPException(
            status_code=_ERROR_STATUS.get(error.code or "", 500) if error else 500, detail=detail
        )
    meta = answer.metadata
    return {
        "message_id": meta.get("message_id"),
        "session_id": session_id,
        "role": "assistant",
        "content": answer.content,
        "agent_name": meta.get("agent_name"),
        "metadata": meta,
        "fallback_status": meta.get("fallback_status", "main"),
        "error_struct": meta.get("error_struct"),
    }


@router.delete("/sessions/{session_id}", responses=error_responses(404, 409, 422))
async def close_session(
    session_id: str, service: ServiceDep, principal: PrincipalDep, purge: bool = False
) -> dict[str, str]:
    """Close a session (stopping what runs in it); with ``purge=true``, delete it and its messages for good (409 while it runs)."""
    if purge:
        await service.delete_session(session_id, principal)
        return {"status": "deleted", "session_id": session_id}
    await service.close_session(session_id, principal)
    return {"status": "closed", "session_id": session_id}


@router.post("/sessions/{session_id}/cancel", responses=error_responses(404, 422))
async def cancel_turns(session_id: str, service: ServiceDep) -> dict[str, int]:
    """Cancel the session's running turns."""
    await service.session_or_404(session_id)
    return {"cancelled": service.cancel(session_id)}


@router.post("/sessions/{session_id}/confirmations/{confirmation_id}", responses=error_responses(404, 422))
async def answer_confirmation(
    session_id: str, confirmation_id: str, body: ConfirmationReply, service: ServiceDep
) -> dict[str, bool]:
    """Approve or deny a pending confirmation (404 if nothing waits under that id)."""
    if not service.answer(session_id, confirmation_id, body.approved):
        raise HTTPException(status_code=404, detail="no pending confirmation with that id")
    return {"approved": body.approved}


@router.post("/sessions/{session_id}/replies/{request_id}", responses=error_responses(404, 422))
async def answer_question(
    session_id: str, request_id: str, body: HumanReplyBody, service: ServiceDep
) -> dict[str, str]:
    """Answer a pending ask-human question (404 if nothing waits under that id)."""
    if not service.answer(session_id, request_id, body.content):
        raise HTTPException(status_code=404, detail="no pending question with that id")
    return {"request_id": request_id}


@router.post(
    "/upload",
    status_code=201,
    responses=error_responses(413, 422),
    # read as a stream by the route, so declared here rather than as a parameter
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def upload(request: Request, service: ServiceDep, principal: PrincipalDep) -> UploadReply:
    """Store an uploaded file (multipart field ``file``), streaming it to disk; 413 past the limit."""
    limit = service.upload_limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise HTTPException(status_code=413, detail=f"file larger than {limit} bytes")
    try:
        stored = await receive_file(
            service.begin_upload, request.headers.get("content-type", ""), request.stream(), principal.user_id
        )
    except UploadTooLarge as exc:
        raise HTTPException(status_code=413, detail=str(exc)) from exc
    except (MalformedUpload, MultipartParseError) as exc:
        raise HTTPException(status_code=422, detail=str(exc) or "malformed multipart body") from exc
    return UploadReply.model_validate(stored.public())


@router.get(
    "/uploads/{stored_name}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "the file: inline if an image, PDF or text, else an attachment",
            "content": {"*/*": {}},
        },
        **error_responses(404, 422),
    },
)
async def download(stored_name: str, service: ServiceDep, principal: PrincipalDep) -> FileResponse:
    """Return an uploaded file under its original name (404 for unknown or unsafe names, or another user's file).

    Images (not SVG), PDF and plain text are shown in place; anything else downloads as
    ``application/octet-stream``, whatever type its uploader declared.
    """
    info = service.upload_info(stored_name, principal)
    if info is None:
        raise HTTPException(status_code=404, detail="file not found")
    served = info.served
    return FileResponse(
        info.path,
        media_type=served.media_type,
        filename=info.filename,
        content_disposition_type="inline" if served.inline else "attachment",
        headers=PASSIVE_HEADERS,
    )
