"""Personal API tokens over REST: a user's own under ``/api/v1/auth/tokens``, everyone's under ``/api/v1/admin/tokens``.

These routes answer 404 while user accounts are off. Making a token needs a password sign-in (a
token cannot make another); listing and revoking one's own also work with a token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import AdminDep, PrincipalDep, ServiceDep
from agentkit_app.service.access import enabled_access
from agentkit_app.service.tokens import TokenCreate, TokenCreated
from agentkit_app.store.models import ApiTokenPublic

router = APIRouter(prefix="/api/v1")

# not signed in, the API key (not a user), or accounts off
OWN_ERRORS = error_responses(401, 403, 404)


@router.get("/auth/tokens", tags=["auth"], responses=OWN_ERRORS)
async def list_own_tokens(principal: PrincipalDep, service: ServiceDep) -> list[ApiTokenPublic]:
    """List the caller's personal API tokens, newest first (never the tokens themselves)."""
    access = enabled_access(service.access)
    return await access.tokens.list(access.token_owner(principal))


@router.post(
    "/auth/tokens",
    status_code=201,
    tags=["auth"],
    responses={**OWN_ERRORS, **error_responses(409, 422)},
)
async def create_token(body: TokenCreate, principal: PrincipalDep, service: ServiceDep) -> TokenCreated:
    """Make a personal API token; the reply is the only time ``token`` is shown.

    Send it as ``X-API-Key: ak_...``, ``Authorization: Bearer ak_...`` or, on the WebSocket,
    ``?api_key=ak_...``: the request then acts as the caller. 403 when the caller signed in with a
    token rather than a password; 409 past 50 tokens.
    """
    access = enabled_access(service.access)
    return await access.tokens.create(access.token_owner(principal, creating=True), body)


@router.delete("/auth/tokens/{token_id}", status_code=204, tags=["auth"], responses=OWN_ERRORS)
async def revoke_own_token(token_id: str, principal: PrincipalDep, service: ServiceDep) -> Response:
    """Revoke one of the caller's tokens at once (404 for an unknown one, or another user's)."""
    access = enabled_access(service.access)
    await access.tokens.revoke(token_id, access.token_owner(principal))
    return Response(status_code=204)


@router.get("/admin/tokens", tags=["admin"], responses=error_responses(401, 403, 404))
async def list_all_tokens(
    _: AdminDep,
    service: ServiceDep,
    user_id: Annotated[str | None, Query(max_length=64, description="only this user's tokens")] = None,
) -> list[ApiTokenPublic]:
    """List every user's personal API tokens (or one user's), newest first, with their owners' names."""
    return await enabled_access(service.access).tokens.list(user_id)


@router.delete(
    "/admin/tokens/{token_id}", status_code=204, tags=["admin"], responses=error_responses(401, 403, 404)
)
async def revoke_any_token(token_id: str, _: AdminDep, service: ServiceDep) -> Response:
    """Revoke any user's token at once (404 for an unknown one)."""
    await enabled_access(service.access).tokens.revoke(token_id)
    return Response(status_code=204)
