"""The OpenAI-compatible door: ``GET /v1/models`` and ``POST /v1/chat/completions``, streamed or not.

A completion runs the request's last user message through the service, like every other transport:
``@board`` and ``@team`` work, quotas and usage apply, and the conversation is a session the web UI
shows. The ``X-AgentKit-Session`` header (or a ``session_id`` field) names the session to continue;
without one a new session is made, and every reply names its session in that header.

Credentials are REST's, and the API key is also taken as a Bearer token (what OpenAI clients send).
Errors have OpenAI's shape: ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from agentkit_app.api.openai_wire import (
    SESSION_HEADER,
    SKILL_PREFIX,
    ChatCompletion,
    ChatCompletionCreate,
    ChunkWriter,
    ErrorReply,
    ModelCard,
    ModelList,
    progress_text,
    text_of,
    usage_of,
)
from agentkit_app.api.security import ApiKeyHeaderDep, BearerDep, ServiceDep, principal_of
from agentkit_app.engine import events as ev
from agentkit_app.service.access import Principal, api_key_ok
from agentkit_app.service.chat import ChatService, TurnRequest
from agentkit_app.service.errors import NotFound, QuotaExceeded, ServiceError, Unauthorized
from agentkit_app.service.runs import Run
from agentkit_app.service.turns import checked_text
from agentkit_app.settings import get_settings
from agentkit_app.store.models import SessionPublic

PREFIX = "/v1"
# a message that reached a board meeting or team already running in the session
DELIVERED = "Your message reached the meeting or team running in this session; it is read next."
_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "conflict_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "api_error",
    503: "server_error",
}
_WHY = {
    400: "the body cannot be parsed or is invalid, the session is closed, or no user message",
    401: "missing or wrong credentials",
    404: "unknown model or session",
    409: "the session is busy, or the run was cancelled",
    429: "a department quota is used up, or too many runs at once",
    502: "the model endpoint failed and no fallback answered",
    503: "a store the request needs cannot be reached",
}
# an error event's code, as the status of a reply that was not streamed
_RUN_STATUS = {"invalid": 400, "llm": 502, "internal": 500, "quota": 429}


class OpenAIError(Exception):
    """An error of a ``/v1`` route, answered in OpenAI's shape."""

    def __init__(
        self, status: int, message: str, code: str | None = None, quota_info: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.quota_info = quota_info

    @classmethod
    def of(cls, exc: ServiceError) -> OpenAIError:
        """Return the error a refusal of the service becomes (invalid input is 400, as OpenAI has it)."""
        status = 400 if exc.status == 422 else exc.status
        quota = exc.quota_info if isinstance(exc, QuotaExceeded) else None
        return cls(status, str(exc), "insufficient_quota" if quota else exc.key, quota)

    def body(self) -> dict[str, Any]:
        """Return the JSON of the reply."""
        error: dict[str, Any] = {
            "message": str(self),
            "type": _TYPES.get(self.status, "api_error"),
            "code": self.code,
        }
        if self.quota_info is not None:
            error["quota_info"] = self.quota_info
        return {"error": error}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` of a ``/v1`` route's error statuses."""
    return {code: {"model": ErrorReply, "description": _WHY[code]} for code in codes}


async def openai_principal(service: ServiceDep, header_key: ApiKeyHeaderDep, bearer: BearerDep) -> Principal:
    """Return the principal of a ``/v1`` request: REST's credentials, and the API key as a Bearer token.

    An X-API-Key header (or a Bearer that is the key) is the credential: an OpenAI client always sends
    a Bearer, which then is only a placeholder.
    """
    token = bearer.credentials.strip() or None if bearer is not None else None
    key = header_key
    configured = get_settings().api_key
    if key is None and token is not None and configured and api_key_ok(token, configured):
        key, token = token, None
    try:
        return await principal_of(service, api_key=key, token=None if key else token)
    except Unauthorized as exc:
        raise OpenAIError(401, str(exc), "invalid_api_key") from None


OpenAIPrincipal = Annotated[Principal, Depends(openai_principal)]
router = APIRouter(prefix=PREFIX, tags=["openai"], responses=responses(401))


async def _models(service: ChatService) -> list[ModelCard]:
    catalog = await service.refresh_catalog()  # the agents users may pick now, as the admin left them
    return [ModelCard(id=agent.name) for agent in catalog.choices()] + [
        ModelCard(id=f"{SKILL_PREFIX}{skill.name}") for skill in catalog.skills
    ]


@router.get("/models")
async def list_models(service: ServiceDep, principal: OpenAIPrincipal) -> ModelList:
    """List the agents, and the skills as ``skill:NAME``, as models."""
    return ModelList(data=await _models(service))


@router.get("/models/{model:path}", responses=responses(404))
async def get_model(model: str, service: ServiceDep, principal: OpenAIPrincipal) -> ModelCard:
    """Return one model (404 if no agent or skill has that name)."""
    card = next((card for card in await _models(service) if card.id == model), None)
    if card is None:
        raise OpenAIError(404, f"unknown model: {model[:200]}", "model_not_found")
    return card


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        **responses(400, 404, 409, 429, 502, 503),
        200: {"content": {"text/event-stream": {}}, "description": "the reply, or its chunks with stream"},
    },
)
async def chat_completions(
    body: ChatCompletionCreate,
    service: ServiceDep,
    principal: OpenAIPrincipal,
    session_header: Annotated[str | None, Header(alias=SESSION_HEADER, max_length=64)] = None,
) -> Response:
    """Run the last user message in a session (the one named, or a new one); answer whole or as SSE chunks."""
    agent, text = _request_of(service, body)
    session_id = _session_named(session_header, body.session_id)
    created = session_id is None
    session = await _session_for(service, principal, session_id, agent, body.model)
    try:
        run = await service.start_turn(
            TurnRequest(session_id=session.session_id, content=text, principal=principal)
        )
    except ServiceError as exc:
        if created:  # a refused first message leaves no empty session behind
            await service.delete_session(session.session_id, principal)
        raise OpenAIError.of(exc) from None
    headers = {SESSION_HEADER: session.session_id}
    writer = ChunkWriter(body.model, bool(body.stream_options and body.stream_options.include_usage))
    if body.stream:
        chunks = _stream(run, writer, session.session_id)
        headers |= {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(chunks, media_type="text/event-stream", headers=headers)
    reply = await _whole(run, writer, session.session_id)
    return JSONResponse(reply.model_dump(), headers=headers)


def _request_of(service: ChatService, body: ChatCompletionCreate) -> tuple[str, str]:
    """Return the agent that answers and the text to run: the last user message (skill models prefix it)."""
    agent = body.model
    prefix = ""
    if agent.startswith(SKILL_PREFIX):
        skill = agent.removeprefix(SKILL_PREFIX)
        if not any(s.name == skill for s in service.catalog.skills):
            raise OpenAIError(404, f"unknown model: {agent}", "model_not_found")
        agent, prefix = service.catalog.choices()[0].name, f"@skill:{skill} "
    elif service.catalog.agent(agent) is None:
        raise OpenAIError(404, f"unknown model: {agent}", "model_not_found")
    user = next((m for m in reversed(body.messages) if m.role == "user"), None)
    if user is None:
        raise OpenAIError(400, "messages hold no user message", "no_user_message")
    text = text_of(user)
    if "\x00" in text:
        raise OpenAIError(400, "the user message holds a NUL character", "invalid_content")
    try:
        return agent, prefix + checked_text(text, service.config.max_content_chars)
    except ServiceError as exc:
        raise OpenAIError.of(exc) from None


def _session_named(header: str | None, field: str | None) -> str | None:
    if header and field and header != field:
        raise OpenAIError(
            400, f"the {SESSION_HEADER} header and session_id name different sessions", "session_mismatch"
        )
    return header or field or None


async def _session_for(
    service: ChatService, principal: Principal, session_id: str | None, agent: str, model: str
) -> SessionPublic:
    """Return the session to continue (404 if it is not the caller's), or a new one with ``agent``."""
    if session_id is None:
        try:
            return await service.create_session(agent, None, principal)
        except ServiceError as exc:
            raise OpenAIError.of(exc) from None
    try:
        session = await service.session_or_404(session_id, principal)
    except (NotFound, DataError):  # DataError: an id the database cannot look up (a NUL in it)
        raise OpenAIError(404, "session not found", "session_not_found") from None
    if not model.startswith(SKILL_PREFIX) and session.agent_name != agent:
        message = f"the session talks to the agent {session.agent_name!r}, not {agent!r}"
        raise OpenAIError(400, message, "model_mismatch")
    return session


async def _whole(run: Run, writer: ChunkWriter, session_id: str) -> ChatCompletion:
    """Follow a run to its answer; return the completion, or raise the error the run ended with."""
    reasoning: list[str] = []
    calls: list[ev.Usage] = []
    async for event in run.follow():
        if isinstance(event, ev.FinalAnswer):
            return writer.completion(event.content, "".join(reasoning), usage_of(event, calls), session_id)
        if isinstance(event, ev.TeamInterventionAck):
            return writer.completion(DELIVERED, "", usage_of(None, calls), session_id)
        if isinstance(event, ev.Error | ev.Result):
            raise _run_error(event)
        if isinstance(event, ev.Usage):
            calls.append(event)
        elif (text := progress_text(event, session_id)) is not None:
            reasoning.append(text)
    raise OpenAIError(500, "the turn ended without an answer", "no_answer")


def _run_error(event: ev.Error | ev.Result) -> OpenAIError:
    if isinstance(event, ev.Result):
        return OpenAIError(409, "the turn was cancelled", "cancelled")
    status = _RUN_STATUS.get(event.code or "", 500)
    return OpenAIError(status, event.message, event.code, event.quota_info)


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


async def _stream(run: Run, writer: ChunkWriter, session_id: str) -> AsyncIterator[bytes]:
    """Yield a run as SSE chunks: reasoning and progress as ``reasoning_content``, the answer as ``content``.

    The answer's tokens stream as they come; a run that streams none (a board, a team) sends its final
    answer as one piece. A client that goes away stops only this generator: the run goes on and is stored.
    """
    yield _sse(writer.chunk({"role": "assistant", "content": ""}))
    calls: list[ev.Usage] = []
    streamed = False
    answer: ev.FinalAnswer | None = None
    async for event in run.follow():
        if isinstance(event, ev.Token):
            streamed = True
            yield _sse(writer.chunk({"content": event.content}))
        elif isinstance(event, ev.FinalAnswer | ev.TeamInterventionAck):
            answer = event if isinstance(event, ev.FinalAnswer) else None
            if not streamed:
                yield _sse(writer.chunk({"content": event.content if answer else DELIVERED}))
            break
        elif isinstance(event, ev.Error | ev.Result):
            yield _sse(_run_error(event).body())
            yield b"data: [DONE]\n\n"
            return
        elif isinstance(event, ev.Usage):
            calls.append(event)
        elif (text := progress_text(event, session_id)) is not None:
            yield _sse(writer.chunk({"reasoning_content": text}))
    yield _sse(writer.chunk({}, finish_reason="stop"))
    if writer.include_usage:
        yield _sse(writer.usage_chunk(usage_of(answer, calls)))
    yield b"data: [DONE]\n\n"


async def _openai_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenAIError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(status_code=exc.status, content=exc.body(), headers=headers)


async def _invalid_body(request: Request, exc: Exception) -> Response:
    """Answer an invalid request: in OpenAI's shape (400) on ``/v1``, FastAPI's own (422) elsewhere."""
    assert isinstance(exc, RequestValidationError)
    if not request.url.path.startswith(f"{PREFIX}/"):
        return await request_validation_exception_handler(request, exc)
    problem = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
    message = (
        f"{where}: {problem.get('msg', 'invalid request')}" if where else str(problem.get("msg", "invalid"))
    )
    error = OpenAIError(400, message[:300], "invalid_request")
    return JSONResponse(status_code=400, content={"error": {**error.body()["error"], "param": where or None}})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Answer FastAPI's own errors (a body it cannot parse, an unknown path) in OpenAI's shape on ``/v1``."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(f"{PREFIX}/"):
        return await http_exception_handler(request, exc)
    error = OpenAIError(exc.status_code, str(exc.detail), None)
    return JSONResponse(status_code=exc.status_code, content=error.body(), headers=exc.headers)


def install_error_handlers(api: FastAPI) -> None:
    """Make ``api`` answer the ``/v1`` routes' errors, and their invalid bodies, in OpenAI's shape."""
    api.add_exception_handler(OpenAIError, _openai_error)
    api.add_exception_handler(RequestValidationError, _invalid_body)
    api.add_exception_handler(HTTPException, _http_error)
