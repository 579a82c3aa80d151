"""Request ids, the access log and the HTTP metrics of every request and WebSocket; ``/metrics`` for Prometheus.

:class:`RequestObserver` wraps everything the server answers (the API and, under ``reflex run``, the
web UI). Each request or WebSocket gets an id: the client's ``X-Request-ID`` when it is a sane one
(1-128 characters of letters, digits and ``.:_-``), else a new one; the reply's ``X-Request-ID``
header carries it back (a WebSocket's handshake too), and every log line of the request, and of the
runs it starts, carries it. Requests are counted by route template (``/api/v1/chat/sessions/{session_id}``),
never by raw path, so hostile paths cannot grow the metrics without bound.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentkit_app.api.security import PrincipalDep
from agentkit_app.service import metrics
from agentkit_app.service.logs import request_id_var, run_id_var, session_id_var

log = logging.getLogger(__name__)
HEADER = b"x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_VARS = (request_id_var, session_id_var, run_id_var)
_QUIET = frozenset({"/api/v1/health", "/api/v1/ready", "/metrics"})

router = APIRouter()


def request_id_of(scope: Scope) -> str:
    """Return the request's id: the client's ``X-Request-ID`` if it is sane, else a new random one."""
    for name, value in scope.get("headers") or ():
        if name == HEADER:
            given = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """Return the template of the route that served the request, or ``other`` when no route matched.

    A route's own template lacks the prefix of the router it was included in (FastAPI keeps them
    apart), and that prefix, matched literally, is what the path asked for has before the route's
    own segments: ``/api/v1/chat`` + ``/sessions/{session_id}``. A mount (the web UI's socket) counts
    under its own path; the web UI's pages and anything no route matched count as ``other``.
    """
    route = scope.get("route")
    template = getattr(route, "path", None) if route is not None else None
    if not isinstance(template, str) or not template:
        return "other"
    if isinstance(route, Mount) or ":path}" in template:
        return template
    own = template.count("/")
    asked = str(scope.get("path", "")).split("/")
    prefix = "/".join(asked[: len(asked) - own]) if len(asked) > own else ""
    return (prefix + template)[:200]


def _with_request_id(message: Message, request_id: str) -> Message:
    headers = list(message.get("headers") or [])
    if not any(name.lower() == HEADER for name, _ in headers):
        headers.append((HEADER, request_id.encode("latin-1")))
    return {**message, "headers": headers}


class RequestObserver:
    """ASGI middleware: the request id in the context and the reply, one access-log line, the HTTP metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request or WebSocket through the wrapped app, observed."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        # fresh ids for this request: nothing of an earlier request on the same connection carries over
        tokens = [var.set(None) for var in _VARS]
        request_id_var.set(request_id)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, send, request_id)
            else:
                await self._websocket(scope, receive, send, request_id)
        finally:
            for var, token in zip(_VARS, tokens, strict=True):
                var.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message.get("status", 500))
                message = _with_request_id(message, request_id)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            method, route = str(scope.get("method", "")), route_of(scope)
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_SECONDS.labels(method, route).observe(elapsed)
            log.log(
                _level(route, status),
                "request",
                extra={"method": method, "route": route, "status": status, "duration_ms": _ms(elapsed)},
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        accepted: dict[str, Any] = {}

        async def observed_send(message: Message) -> None:
            if message["type"] == "websocket.accept" and not accepted:
                message = _with_request_id(message, request_id)
                accepted["route"] = route = route_of(scope)
                metrics.WEBSOCKETS.labels(route).inc()
                log.log(_level(route, 101), "websocket opened", extra={"route": route})
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            if accepted:
                metrics.WEBSOCKETS.labels(accepted["route"]).dec()
                elapsed = _ms(time.perf_counter() - started)
                extra = {"route": accepted["route"], "duration_ms": elapsed}
                log.log(_level(accepted["route"], 101), "websocket closed", extra=extra)


def _level(route: str, status: int) -> int:
    """Return the level of a request's line: the API's at INFO, failures louder, the frequent and dull at DEBUG.

    Probes and scrapes (health, ready, metrics) come every few seconds, and the web UI's assets and
    pages with every visit: they are logged at DEBUG unless they fail.
    """
    if status >= 500:
        return logging.WARNING
    if route in _QUIET:
        return logging.INFO if status >= 400 else logging.DEBUG
    return logging.INFO if route.startswith("/api/") else logging.DEBUG


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(principal: PrincipalDep) -> Response:
    """Answer the metrics in Prometheus' text format.

    The same credentials as the API: the API key when one is configured; with accounts on, an
    admin's token or the API key (a regular user gets 403).
    """
    if principal.role == "user":
        raise HTTPException(status_code=403, detail="admins only")
    return Response(await asyncio.to_thread(metrics.exposition), media_type=metrics.CONTENT_TYPE)
