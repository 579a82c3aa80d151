"""The catalog over REST, for admins: list, create, change and delete agents, experts and templates.

An entry's name is its key and is fixed once created (sessions, templates and commands refer to it).
A refused edit answers 422 (bad value), 409 (name taken, or something depends on the entry) or 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import AdminDep, ServiceDep
from agentkit_app.service.catalog_admin import (
    AgentFields,
    AgentPublic,
    CatalogSnapshot,
    ExpertFields,
    ExpertPublic,
    TemplateFields,
    TemplatePublic,
)

router = APIRouter(prefix="/api/v1/admin/catalog", tags=["admin"], responses=error_responses(401, 403, 404))
EDIT = error_responses(409, 422)
Name = Annotated[str, Path(max_length=100)]


@router.get("")
async def list_catalog(principal: AdminDep, service: ServiceDep) -> CatalogSnapshot:
    """List every agent (hidden ones too), expert and template, with the catalog's version."""
    return await service.catalog_listing(principal)


@router.post("/agents", status_code=201, responses=EDIT)
async def create_agent(body: AgentPublic, principal: AdminDep, service: ServiceDep) -> AgentPublic:
    """Create an agent; users can pick it at once (unless ``enabled`` is false)."""
    return await service.save_agent(principal, body.name, body, create=True)


@router.put("/agents/{name}", responses=EDIT)
async def update_agent(
    name: Name, body: AgentFields, principal: AdminDep, service: ServiceDep
) -> AgentPublic:
    """Change an agent; new turns use the change (``enabled: false`` hides it from the picker)."""
    return await service.save_agent(principal, name, body, create=False)


@router.delete("/agents/{name}", status_code=204, responses=EDIT)
async def delete_agent(name: Name, principal: AdminDep, service: ServiceDep) -> Response:
    """Delete an agent no session uses (409 otherwise: hide it instead)."""
    await service.delete_catalog_entry(principal, "agent", name)
    return Response(status_code=204)


@router.post("/experts", status_code=201, responses=EDIT)
async def create_expert(body: ExpertPublic, principal: AdminDep, service: ServiceDep) -> ExpertPublic:
    """Create an expert persona (names are unique without regard to case)."""
    return await service.save_expert(principal, body.name, body, create=True)


@router.put("/experts/{name}", responses=EDIT)
async def update_expert(
    name: Name, body: ExpertFields, principal: AdminDep, service: ServiceDep
) -> ExpertPublic:
    """Change an expert persona; boards and teams that start afterwards use it."""
    return await service.save_expert(principal, name, body, create=False)


@router.delete("/experts/{name}", status_code=204, responses=EDIT)
async def delete_expert(name: Name, principal: AdminDep, service: ServiceDep) -> Response:
    """Delete an expert no template names (409 otherwise), unless it is the last moderator."""
    await service.delete_catalog_entry(principal, "expert", name)
    return Response(status_code=204)


@router.post("/templates", status_code=201, responses=EDIT)
async def create_template(body: TemplatePublic, principal: AdminDep, service: ServiceDep) -> TemplatePublic:
    """Create a board template (members) or a team template (a lead and members)."""
    return await service.save_template(principal, body.name, body, create=True)


@router.put("/templates/{name}", responses=EDIT)
async def update_template(
    name: Name, body: TemplateFields, principal: AdminDep, service: ServiceDep
) -> TemplatePublic:
    """Change a template; ``board`` and ``dev_team`` are what a bare ``@board`` and ``@team`` use."""
    return await service.save_template(principal, name, body, create=False)


@router.delete("/templates/{name}", status_code=204, responses=EDIT)
async def delete_template(name: Name, principal: AdminDep, service: ServiceDep) -> Response:
    """Delete a template, unless it is the last of its kind."""
    await service.delete_catalog_entry(principal, "template", name)
    return Response(status_code=204)
