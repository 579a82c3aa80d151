"""Sign-in and account administration: ``/api/v1/auth/*`` and the admin-only ``/api/v1/admin/*``.

These routes answer 404 while user accounts are off (``AGENTKIT_AUTH_ENABLED``), except ``/auth/me``,
which then reports ``auth_enabled: false``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import AdminDep, PrincipalDep, ServiceDep
from agentkit_app.service.access import enabled_access
from agentkit_app.service.accounts import (
    AccountAdmin,
    DepartmentCreate,
    DepartmentUpdate,
    DepartmentWithQuotas,
    UserCreate,
    UserUpdate,
)
from agentkit_app.service.throttle import SignInThrottled
from agentkit_app.store.models import DepartmentPublic, QuotaPublic, UserPublic

router = APIRouter(prefix="/api/v1")

# every admin route: not signed in, not an admin, or accounts off (404)
ADMIN_ERRORS = error_responses(401, 403, 404)


class LoginBody(BaseModel):
    """Body of ``POST /auth/login``."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginReply(BaseModel):
    """A sign-in token (send it as ``Authorization: Bearer <token>``, or ``?token=`` on the WebSocket)."""

    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserPublic


class Me(BaseModel):
    """Who the credentials belong to."""

    auth_enabled: bool
    role: str
    user: UserPublic | None = None
    department: DepartmentPublic | None = None
    # whether the agent may offer them the (sandboxed) shell tool, if this server has a sandbox
    shell_allowed: bool = True


@router.post(
    "/auth/login",
    tags=["auth"],
    responses={
        401: {"description": "wrong username or password, or a disabled account"},
        429: {
            "description": "too many failed sign-ins for this username or from this address; see Retry-After"
        },
        503: {"description": "the store of failed sign-ins cannot be reached; sign-in is refused meanwhile"},
        **error_responses(404),
    },
)
async def login(body: LoginBody, request: Request, service: ServiceDep) -> LoginReply:
    """Sign in with a username and password; 401 for a wrong pair or a disabled account.

    After too many failed sign-ins (by default 5 a minute) for one username, or from one client
    address, further ones get 429 with ``Retry-After`` (seconds) and are not checked, even with the
    right password. The address is the connection's peer (behind a proxy: the proxy).
    """
    access = enabled_access(service.access)
    try:
        token, user = await access.authenticate(
            body.username, body.password, request.client.host if request.client else None
        )
    except SignInThrottled as exc:
        raise HTTPException(
            status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    return LoginReply(token=token, expires_in=access.token_ttl_s, user=user)


@router.get("/auth/me", tags=["auth"], responses=error_responses(401))
async def me(principal: PrincipalDep, service: ServiceDep) -> Me:
    """Return who the credentials belong to: a user (with their department), an API-key client, or anyone."""
    access = service.access
    enabled = bool(access and access.enabled)
    if access is None or principal.user_id is None:
        return Me(auth_enabled=enabled, role=principal.role, shell_allowed=principal.shell_allowed)
    user, department = await access.profile(principal)
    return Me(
        auth_enabled=enabled,
        role=principal.role,
        user=user,
        department=department,
        shell_allowed=principal.shell_allowed,
    )


@router.get("/admin/users", tags=["admin"], responses=ADMIN_ERRORS)
async def list_users(_: AdminDep, service: ServiceDep) -> list[UserPublic]:
    """List every user, by username."""
    return await AccountAdmin.of(service.access).list_users()


@router.post(
    "/admin/users", status_code=201, tags=["admin"], responses={**ADMIN_ERRORS, **error_responses(409, 422)}
)
async def create_user(body: UserCreate, _: AdminDep, service: ServiceDep) -> UserPublic:
    """Create a user (409 if the name is taken, 404 for an unknown department)."""
    return await AccountAdmin.of(service.access).create_user(body)


@router.patch(
    "/admin/users/{user_id}", tags=["admin"], responses={**ADMIN_ERRORS, **error_responses(409, 422)}
)
async def update_user(user_id: str, body: UserUpdate, _: AdminDep, service: ServiceDep) -> UserPublic:
    """Change a user's password, role, department or disabled flag.

    A disabled user's tokens stop working, and so do all tokens issued before a password change.
    """
    return await AccountAdmin.of(service.access).update_user(user_id, body)


@router.get("/admin/departments", tags=["admin"], responses=ADMIN_ERRORS)
async def list_departments(_: AdminDep, service: ServiceDep) -> list[DepartmentWithQuotas]:
    """List every department with its quotas, by name."""
    return await AccountAdmin.of(service.access).departments_with_quotas()


@router.post(
    "/admin/departments",
    status_code=201,
    tags=["admin"],
    responses={**ADMIN_ERRORS, **error_responses(409, 422)},
)
async def create_department(body: DepartmentCreate, _: AdminDep, service: ServiceDep) -> DepartmentPublic:
    """Create a department (409 if the name is taken); ``shell_enabled`` lets its users run the shell tool."""
    return await AccountAdmin.of(service.access).create_department(body)


@router.patch(
    "/admin/departments/{department_id}", tags=["admin"], responses={**ADMIN_ERRORS, **error_responses(422)}
)
async def update_department(
    department_id: str, body: DepartmentUpdate, _: AdminDep, service: ServiceDep
) -> DepartmentPublic:
    """Turn a department's shell tool on or off for its regular users (admins may always use it)."""
    return await AccountAdmin.of(service.access).update_department(department_id, body)


@router.put(
    "/admin/departments/{department_id}/quotas",
    tags=["admin"],
    responses={**ADMIN_ERRORS, **error_responses(422)},
)
async def set_quotas(
    department_id: str, body: list[QuotaPublic], _: AdminDep, service: ServiceDep
) -> list[QuotaPublic]:
    """Replace a department's quotas (``[]`` removes them; 422 for two of the same type and period)."""
    return await AccountAdmin.of(service.access).set_quotas(department_id, body)


class QuotaUsage(QuotaPublic):
    """A quota of the period with what the department has used of it."""

    current: int


class DepartmentUsage(BaseModel):
    """A department's requests and tokens since the start of the current day or month (UTC)."""

    department_id: str
    period: Literal["day", "month"]
    since: datetime
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    quotas: list[QuotaUsage]


@router.get(
    "/admin/departments/{department_id}/usage",
    tags=["admin"],
    responses={**ADMIN_ERRORS, **error_responses(422)},
)
async def department_usage(
    department_id: str,
    _: AdminDep,
    service: ServiceDep,
    period: Annotated[Literal["day", "month"], Query(description="the current UTC day or month")] = "day",
) -> DepartmentUsage:
    """Return a department's requests and tokens in the current period, and its quotas of that period."""
    return DepartmentUsage.model_validate(await AccountAdmin.of(service.access).usage(department_id, period))
