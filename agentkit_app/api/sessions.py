"""The REST routes about sessions: the agents to bind one to, listing, creating, renaming, closing; messages, branches, search."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import PrincipalDep, ServiceDep, SessionDep
from agentkit_app.store.models import MessagePublic, SessionPublic
from agentkit_app.store.search import SearchHit

MAX_OFFSET = 2**31 - 1  # databases take no larger OFFSET (SQLite: 64-bit), and no list is that long

router = APIRouter()


class SessionUpdate(BaseModel):
    """Body of ``PATCH /sessions/{id}``: a new title, pinned or not, ``status: "active"`` to restore it."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    pinned: bool | None = None
    status: Literal["active"] | None = None


class SessionCreate(BaseModel):
    """Body of ``POST /sessions``."""

    agent_name: str = Field(min_length=1, max_length=100)
    metadata: dict[str, Any] | None = None


class AgentInfo(BaseModel):
    """An agent a session can be bound to, with the tools it can use here for the caller."""

    name: str
    display_name: str
    description: str
    tools: list[str]


class SessionRemoved(BaseModel):
    """What closing (or purging) a session answers."""

    status: Literal["closed", "deleted"]
    session_id: str


class BranchSwitch(BaseModel):
    """Body of ``POST /sessions/{id}/branch``."""

    message_id: str = Field(min_length=1, max_length=64)


@router.get("/agents")
async def list_agents(service: ServiceDep, principal: PrincipalDep) -> list[AgentInfo]:
    """List the agents a session can be bound to, each with the tools it can use here for the caller.

    The shell is left out where no sandbox can start, and for a user whose department does not allow it.
    """
    usable = service.tools.usable(service.config.tool_context, sandboxed=principal.shell_allowed).names()
    return [
        AgentInfo(
            name=a.name,
            display_name=a.display_name,
            description=a.description,
            tools=[name for name in a.tools if name in usable],
        )
        for a in (await service.refresh_catalog()).choices()
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
async def get_session(session: SessionDep) -> SessionPublic:
    """Return one session."""
    return session


@router.patch("/sessions/{session_id}", responses=error_responses(404, 409, 422))
async def update_session(
    session_id: str, body: SessionUpdate, service: ServiceDep, principal: PrincipalDep
) -> SessionPublic:
    """Rename, pin or restore a session; a name given by a user is never replaced by a generated title."""
    return await service.update_session(
        session_id, title=body.title, pinned=body.pinned, status=body.status, principal=principal
    )


@router.delete("/sessions/{session_id}", responses=error_responses(404, 409, 422))
async def close_session(
    session_id: str, service: ServiceDep, principal: PrincipalDep, purge: bool = False
) -> SessionRemoved:
    """Close a session (stopping what runs in it); with ``purge=true``, delete it and its messages for good (409 while it runs)."""
    if purge:
        await service.delete_session(session_id, principal)
        return SessionRemoved(status="deleted", session_id=session_id)
    await service.close_session(session_id, principal)
    return SessionRemoved(status="closed", session_id=session_id)


@router.get("/sessions/{session_id}/messages", responses=error_responses(404, 422))
async def get_messages(
    session: SessionDep,
    service: ServiceDep,
    principal: PrincipalDep,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    branch: Annotated[
        str, Query(pattern="^(active|all)$", description="active (shown) branch, or all messages")
    ] = "active",
) -> list[MessagePublic]:
    """Return the session's messages in conversation order, with their metadata, alternatives and the caller's vote."""
    return await service.messages_with_votes(
        session.session_id, principal, limit=limit, offset=offset, branch=branch
    )


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
