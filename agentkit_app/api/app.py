"""The FastAPI app that Reflex mounts: REST, uploads, the WebSocket, sign-in and admin under ``/api/v1``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from python_multipart.exceptions import MultipartParseError
from sqlalchemy.exc import DataError

from agentkit_app.api import auth, catalog, feedback, observability, openai_door, rest, shares, tokens, ws
from agentkit_app.api.multipart_upload import MalformedUpload
from agentkit_app.api.problems import UNSTORABLE, declare_framework_errors
from agentkit_app.api.security import ServiceDep
from agentkit_app.service.errors import STORE_UNAVAILABLE, QuotaExceeded, ServiceError
from agentkit_app.service.health import readiness
from agentkit_app.service.logs import configure_logging
from agentkit_app.service.runtime import prepare_service
from agentkit_app.service.uploads import UploadTooLarge
from agentkit_app.settings import get_settings, refuse_contradictions


class ReadyReply(BaseModel):
    """What ``/api/v1/ready`` answers: ready or not, and each dependency's state (``"ok"`` or why not)."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, str]


class HealthReply(BaseModel):
    """What ``/api/v1/health`` answers while the process serves."""

    status: Literal["ok"] = "ok"


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status if isinstance(exc, ServiceError) else 500
    content: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, QuotaExceeded):
        content["quota_info"] = exc.quota_info
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(status_code=status, content=content, headers=headers)


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": str(exc)})


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refuses NUL in text and out-of-range numbers; both come from the client's input
    return JSONResponse(status_code=422, content={"detail": UNSTORABLE})


async def _upload_too_large(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=413, content={"detail": str(exc)})


async def _malformed_upload(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": str(exc) or "malformed multipart body"})


@asynccontextmanager
async def _build_service_first(api: FastAPI) -> AsyncIterator[None]:
    """Build the service (migrations, the configuration check and log) before a bare API serves anything.

    Run only when this app is the server's own (uvicorn); mounted in Reflex, the app's lifespan task does it.
    """
    await prepare_service()
    yield


def build_api() -> FastAPI:
    """Return the API app (OpenAPI docs at ``/api/v1/docs``), with logging configured from the settings.

    Raises:
        ConfigurationError: the settings contradict each other; the app does not start.
    """
    settings = get_settings()
    configure_logging(settings)
    refuse_contradictions(settings)
    api = FastAPI(
        title="AgentKit API",
        version="1.0",
        docs_url="/api/v1/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_build_service_first,
    )
    api.add_exception_handler(ServiceError, _service_error)
    for unavailable in STORE_UNAVAILABLE:
        api.add_exception_handler(unavailable, _store_unavailable)
    api.add_exception_handler(DataError, _unstorable)
    api.add_exception_handler(UploadTooLarge, _upload_too_large)
    for malformed in (MalformedUpload, MultipartParseError):
        api.add_exception_handler(malformed, _malformed_upload)
    api.include_router(rest.router)
    api.include_router(ws.router)
    api.include_router(auth.router)
    api.include_router(tokens.router)
    api.include_router(shares.reader_router)
    api.include_router(feedback.admin_router)
    api.include_router(catalog.router)
    api.include_router(observability.router)
    api.include_router(openai_door.router)
    openai_door.install_error_handlers(api)
    api.add_middleware(observability.RequestObserver)

    @api.get("/api/v1/health", tags=["health"])
    async def health() -> HealthReply:
        """Report that the API answers (alive; checks nothing else: see ``/api/v1/ready``)."""
        return HealthReply()

    @api.get(
        "/api/v1/ready",
        tags=["health"],
        response_model=ReadyReply,
        responses={503: {"model": ReadyReply, "description": "a dependency does not answer"}},
    )
    async def ready(service: ServiceDep) -> JSONResponse:
        """Report whether the database and Redis (when configured) answer: 200, or 503 naming what failed."""
        result = await readiness(service)
        reply = ReadyReply(status="ready" if result.ready else "unavailable", checks=result.checks)
        return JSONResponse(status_code=200 if result.ready else 503, content=reply.model_dump())

    declare_framework_errors(api)
    return api
