"""Sign-in and account administration: ``/api/v1/auth/*`` and the admin-only ``/api/v1/admin/*``.

These routes answer 404 while user accounts are off (``AGENTKIT_AUTH_ENABLED``), except ``/auth/me``,
which then reports ``auth_enabled: false``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import AdminDep, PrincipalDep, ServiceDep
from agentkit_app.service.access import AccessControl
from agentkit_app.service.chat import ChatService
from agentkit_app.service.errors import AccountsDisabled
from agentkit_app.service.throttle import SignInThrottled
from agentkit_app.store.accounts import AccountConflict, UnknownDepartment
from agentkit_app.store.models import DepartmentPublic, QuotaPublic, UserPublic

router = APIRouter(prefix="/api/v1")

USERNAME_PATTERN = r"^[A-Za-z0-9._@-]+$"
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


class UserCreate(BaseModel):
    """Body of ``POST /admin/users``."""

    username: str = Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "user"] = "user"
    department_id: str | None = Field(default=None, max_length=64)


class UserUpdate(BaseModel):
    """Body of ``PATCH /admin/users/{id}``: only the fields given change (``department_id: null`` clears it)."""

    password: str | None = Field(default=None, min_length=8, max_length=256)
    role: Literal["admin", "user"] | None = None
    department_id: str | None = Field(default=None, max_length=64)
    disabled: bool | None = None


class DepartmentCreate(BaseModel):
    """Body of ``POST /admin/departments``."""

    name: str = Field(min_length=1, max_length=100)
    shell_enabled: bool = False


class DepartmentUpdate(BaseModel):
    """Body of ``PATCH /admin/departments/{id}``: only the fields given change."""

    shell_enabled: bool | None = None


class DepartmentWithQuotas(DepartmentPublic):
    """A department and its quotas."""

    quotas: list[QuotaPublic] = []


def _access(service: ChatService) -> AccessControl:
    if service.access is None or not service.access.enabled:
        raise AccountsDisabled("user accounts are not enabled")
    return service.access


@contextmanager
def _account_errors() -> Iterator[None]:
    """Translate the account store's refusals to HTTP errors."""
    try:
        yield
    except AccountConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except UnknownDepartment:
        raise HTTPException(status_code=404, detail="department not found") from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


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
    access = _access(service)
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
    user = await access.accounts.get_user(principal.user_id)
    department = (
        await access.accounts.get_department(user.department_id) if user and user.department_id else None
    )
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
    return await _access(service).accounts.list_users()


@router.post(
    "/admin/users", status_code=201, tags=["admin"], responses={**ADMIN_ERRORS, **error_responses(409, 422)}
)
async def create_user(body: UserCreate, _: AdminDep, service: ServiceDep) -> UserPublic:
    """Create a user (409 if the name is taken, 404 for an unknown department)."""
    with _account_errors():
        return await _access(service).accounts.create_user(
            username=body.username, password=body.password, role=body.role, department_id=body.department_id
        )


@router.patch(
    "/admin/users/{user_id}", tags=["admin"], responses={**ADMIN_ERRORS, **error_responses(409, 422)}
)
async def update_user(user_id: str, body: UserUpdate, _: AdminDep, service: ServiceDep) -> UserPublic:
    """Change a user's password, role, department or disabled flag.

    A disabled user's tokens stop working, and so do all tokens issued before a password change.
    """
    with _account_errors():
        updated = await _access(service).accounts.update_user(
            user_id,
            password=body.password,
            role=body.role,
            department_id=body.department_id,
            clear_department="department_id" in body.model_fields_set and body.department_id is None,
            disabled=body.disabled,
        )
    if updated is None:
        raise HTTPException(status_code=404, detail="user not found")
    return updated


@router.get("/admin/departments", tags=["admin"], responses=ADMIN_ERRORS)
async def list_departments(_: AdminDep, service: ServiceDep) -> list[DepartmentWithQuotas]:
    """List every department with its quotas, by name."""
    accounts = _access(service).accounts
    return [
        DepartmentWithQuotas(**d.model_dump(), quotas=await accounts.get_quotas(d.department_id))
        for d in await accounts.list_departments()
    ]


@router.post(
    "/admin/departments",
    status_code=201,
    tags=["admin"],
    responses={**ADMIN_ERRORS, **error_responses(409, 422)},
)
async def create_department(body: DepartmentCreate, _: AdminDep, service: ServiceDep) -> DepartmentPublic:
    """Create a department (409 if the name is taken); ``shell_enabled`` lets its users run the shell tool."""
    name = " ".join(body.name.split())
    if not name:
        raise HTTPException(status_code=422, detail="name must not be blank")
    with _account_errors():
        return await _access(service).accounts.create_department(name, shell_enabled=body.shell_enabled)


@router.patch(
    "/admin/departments/{department_id}", tags=["admin"], responses={**ADMIN_ERRORS, **error_responses(422)}
)
async def update_department(
    department_id: str, body: DepartmentUpdate, _: AdminDep, service: ServiceDep
) -> DepartmentPublic:
    """Turn a department's shell tool on or off for its regular users (admins may always use it)."""
    updated = await _access(service).accounts.update_department(
        department_id, shell_enabled=body.shell_enabled
    )
    if updated is None:
        raise HTTPException(status_code=404, detail="department not found")
    return updated


@router.put(
    "/admin/departments/{department_id}/quotas",
    tags=["admin"],
    responses={**ADMIN_ERRORS, **error_responses(422)},
)
async def set_quotas(
    department_id: str, body: list[QuotaPublic], _: AdminDep, service: ServiceDep
) -> list[QuotaPublic]:
    """Replace a department's quotas (``[]`` removes them; 422 for two of the same type and period)."""
    with _account_errors():
        return await _access(service).accounts.set_quotas(department_id, body)


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
) -> dict[str, Any]:
    """Return a department's requests and tokens in the current period, and its quotas of that period."""
    return await _access(service).quota.usage(department_id, period)
