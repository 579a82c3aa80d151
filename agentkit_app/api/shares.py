"""Read-only share links over REST: a session's owner (or an admin) makes, lists and revokes them; anyone reads one.

Making, listing and revoking live under ``/api/v1/chat/sessions/{id}/shares`` (their router checks
that the session is the caller's: others get 404). Reading is ``GET /api/v1/shares/{token}``: a
``public`` link needs no credentials, a ``signed_in`` one the credentials the rest of the API takes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import (
    ApiKeyHeaderDep,
    ApiKeyQueryDep,
    BearerDep,
    PrincipalDep,
    ServiceDep,
    principal_of,
)
from agentkit_app.service.access import Principal
from agentkit_app.service.errors import Unauthorized
from agentkit_app.service.shares import ShareCreate, SharedConversation
from agentkit_app.store.models import SharePublic

# under ``/api/v1/chat`` (its router checks the session is the caller's)
router = APIRouter()
# under ``/api/v1``: the reader's side, which may need no credentials
reader_router = APIRouter(prefix="/api/v1", tags=["shares"])

ShareId = Annotated[str, Path(max_length=16, description="the link's id, from the list")]


@router.post("/sessions/{session_id}/shares", status_code=201, responses=error_responses(404, 409, 422))
async def create_share(
    session_id: str, service: ServiceDep, principal: PrincipalDep, body: ShareCreate | None = None
) -> SharePublic:
    """Make a read-only link to the conversation; ``path`` is its page, ``/share/<token>``.

    Anyone holding the link reads the conversation as the owner sees it (``signed_in``: once signed in;
    ``public``: anyone). 409 past 20 live links for one conversation.
    """
    return await service.create_share(session_id, principal, body.visibility if body else None)


@router.get("/sessions/{session_id}/shares", responses=error_responses(404, 422))
async def list_shares(session_id: str, service: ServiceDep, principal: PrincipalDep) -> list[SharePublic]:
    """List the conversation's live links, newest first."""
    return await service.shares_of(session_id, principal)


@router.delete(
    "/sessions/{session_id}/shares/{share_id}", status_code=204, responses=error_responses(404, 422)
)
async def revoke_share(
    session_id: str, share_id: ShareId, service: ServiceDep, principal: PrincipalDep
) -> Response:
    """Revoke a link: it stops working at once (404 for an unknown or already revoked one)."""
    await service.revoke_share(session_id, share_id, principal)
    return Response(status_code=204)


async def _reader(
    service: ServiceDep, header_key: ApiKeyHeaderDep, query_key: ApiKeyQueryDep, bearer: BearerDep
) -> Principal | None:
    """Return who reads a link, or None for a visitor the deployment would not let in."""
    try:
        return await principal_of(
            service,
            api_key=header_key or query_key,
            token=bearer.credentials.strip() or None if bearer is not None else None,
        )
    except Unauthorized:
        return None


@reader_router.get("/shares/{token}", responses=error_responses(401, 404))
async def read_share(
    token: Annotated[str, Path(description="the token of the link (its last part)")],
    service: ServiceDep,
    header_key: ApiKeyHeaderDep,
    query_key: ApiKeyQueryDep,
    bearer: BearerDep,
) -> SharedConversation:
    """Return a shared conversation, read only: its title and its messages as its owner sees them.

    404 for a malformed, unknown or revoked link (one answer for all); 401 for a ``signed_in`` link
    read without valid credentials.
    """
    reader = await _reader(service, header_key, query_key, bearer)
    return await service.open_share(token, reader)
