"""Credentials of REST and WebSocket requests, turned into the service's :class:`Principal`.

Accounts off (the default): the API key, if one is configured, is required as before
(header ``X-API-Key`` or ``api_key`` query). Accounts on: ``Authorization: Bearer <token>``
(WebSocket: ``?token=``) or the API key; a personal API token (``ak_...``) goes in either place and
acts as its user. Without any the request is refused with 401.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from agentkit_app.service.access import Principal, api_key_ok
from agentkit_app.service.chat import ChatService
from agentkit_app.service.errors import Unauthorized
from agentkit_app.service.logs import bind
from agentkit_app.service.runtime import get_service, service_built
from agentkit_app.settings import get_settings
from agentkit_app.store.models import SessionPublic


async def current_service() -> ChatService:
    """Return the process-wide service, built in a worker thread on first use (migrations block).

    An async dependency: FastAPI runs a plain function in its thread pool for every request.
    """
    return get_service() if service_built() else await asyncio.to_thread(get_service)


ServiceDep = Annotated[ChatService, Depends(current_service)]

# The credentials, declared as the OpenAPI schema's security schemes (the docs page's Authorize button).
# None of them refuses a request by itself: :func:`principal_of` decides what is enough.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="the deployment's API key, or a personal API token (ak_...)",
    auto_error=False,
)
API_KEY_QUERY = APIKeyQuery(
    name="api_key",
    scheme_name="ApiKeyQuery",
    description="the API key as a query parameter",
    auto_error=False,
)
BEARER = HTTPBearer(
    scheme_name="Bearer",
    description="a sign-in token from POST /api/v1/auth/login or a personal API token (ak_...); on /v1 also the API key",
    auto_error=False,
)
ApiKeyHeaderDep = Annotated[str | None, Security(API_KEY_HEADER)]
ApiKeyQueryDep = Annotated[str | None, Security(API_KEY_QUERY)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]


async def principal_of(service: ChatService, *, api_key: str | None, token: str | None) -> Principal:
    """Return the principal the credentials prove (raises Unauthorized)."""
    if service.access is None:  # a service built without accounts: the API key alone, as before accounts
        if not api_key_ok(api_key, get_settings().api_key):
            raise Unauthorized("invalid or missing API key")
        return Principal.anonymous()
    return await service.access.resolve(api_key=api_key, token=token)


async def current_principal(
    service: ServiceDep, header_key: ApiKeyHeaderDep, query_key: ApiKeyQueryDep, bearer: BearerDep
) -> Principal:
    """Return the principal of a REST request, or refuse it with 401."""
    try:
        return await principal_of(
            service,
            api_key=header_key or query_key,
            token=bearer.credentials.strip() or None if bearer is not None else None,
        )
    except Unauthorized as exc:
        raise HTTPException(
            status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def authorize_session(request: Request, principal: PrincipalDep, service: ServiceDep) -> None:
    """Refuse a request without credentials, and one about a session that is not the principal's (404)."""
    session_id = request.path_params.get("session_id")
    if session_id:
        bind(session_id=str(session_id)[:64])
        request.state.session = await service.session_or_404(session_id, principal)


async def current_session(
    request: Request, session_id: str, principal: PrincipalDep, service: ServiceDep
) -> SessionPublic:
    """Return the session of the request's path, or refuse with 404 when it is unknown or not the principal's.

    Read once per request: the router's :func:`authorize_session` has usually read it already.
    """
    known = getattr(request.state, "session", None)
    if isinstance(known, SessionPublic) and known.session_id == session_id:
        return known
    return await service.session_or_404(session_id, principal)


SessionDep = Annotated[SessionPublic, Depends(current_session)]


async def require_admin(principal: PrincipalDep, service: ServiceDep) -> Principal:
    """Return the principal of a signed-in admin; 403 for anyone else, 404 when accounts are off."""
    if service.access is None:
        raise HTTPException(status_code=404, detail="user accounts are not enabled")
    service.access.require_admin(principal)
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
