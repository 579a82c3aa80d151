"""Who is asking and what they may do: principals, sign-in tokens, session visibility, department quotas.

Every transport turns its credentials into a :class:`Principal` with :meth:`AccessControl.resolve`
(REST and WebSocket) or :meth:`AccessControl.authenticate` plus :meth:`AccessControl.principal_for_web`
(the in-process web UI), and hands it to the service, which refuses what the principal may not do.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import jwt

from agentkit_app.service.errors import (
    AccountsDisabled,
    Forbidden,
    NotFound,
    QuotaCheckFailed,
    QuotaExceeded,
    Unauthorized,
)
from agentkit_app.service.throttle import SignInThrottle
from agentkit_app.store.accounts import AccountStore, UnknownDepartment
from agentkit_app.store.models import (
    DepartmentPublic,
    QuotaPublic,
    SessionPublic,
    UsageTotals,
    UserPublic,
    utcnow,
)

__all__ = ["AccessControl", "Principal", "QuotaGate", "api_key_ok", "enabled_access", "period_start"]

log = logging.getLogger(__name__)

Role = Literal["admin", "user", "apikey", "anonymous"]
# assistant answers whose metadata carries the usage of a whole turn or run: one ledger row each
# (board and team event cards repeat their run's total and are not counted again)
BILLED_MESSAGE_TYPES = (None, "board_final", "team_final")
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in admin or user, an API-key client, or anyone (accounts off)."""

    role: Role
    user_id: str | None = None
    department_id: str | None = None
    username: str | None = None
    # whether the agent may offer this principal the (sandboxed) shell tool: admins, API-key clients
    # and everyone while accounts are off; a regular user only when their department allows it
    shell_allowed: bool = True

    @classmethod
    def anonymous(cls) -> Principal:
        """Return the principal of a deployment without accounts or API key."""
        return cls(role="anonymous")

    @classmethod
    def api_client(cls) -> Principal:
        """Return the principal of a client that gave the deployment's API key."""
        return cls(role="apikey")

    @classmethod
    def of_user(cls, user: UserPublic, *, department_shell: bool = False) -> Principal:
        """Return the principal of a signed-in user; ``department_shell`` is their department's shell switch.

        Admins may use the shell; a regular user only in a department whose switch is on.
        """
        role: Role = "admin" if user.role == "admin" else "user"
        return cls(
            role=role,
            user_id=user.user_id,
            department_id=user.department_id,
            username=user.username,
            shell_allowed=role == "admin" or (user.department_id is not None and department_shell),
        )

    @property
    def limited(self) -> bool:
        """Whether quotas apply: regular users only (admins and API-key clients are not limited)."""
        return self.role == "user"

    @property
    def sees_all(self) -> bool:
        """Whether every session is visible (everyone but a regular user, who sees their own)."""
        return self.role != "user"

    @property
    def owner_filter(self) -> str | None:
        """Return the ``user_id`` to filter session lists by, or None for all sessions."""
        return None if self.sees_all else self.user_id

    def can_see(self, session: SessionPublic) -> bool:
        """Return whether this principal may read and use ``session``."""
        return self.sees_all or (self.user_id is not None and session.user_id == self.user_id)


def api_key_ok(given: str | None, expected: str | None) -> bool:
    """Return whether ``given`` is the ``expected`` API key (always, when none is configured); constant time."""
    if not expected:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode())


def enabled_access(access: AccessControl | None) -> AccessControl:
    """Return the access control of a deployment with user accounts on.

    Raises:
        AccountsDisabled: accounts are off (or the service was built without them).
    """
    if access is None or not access.enabled:
        raise AccountsDisabled("user accounts are not enabled")
    return access


def period_start(period: str, now: datetime) -> datetime:
    """Return the start of the quota period holding ``now``: midnight UTC, or the 1st of the month UTC."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown quota period: {period}")


def _refuse_if_over(department_id: str, quotas: list[QuotaPublic], totals: dict[str, UsageTotals]) -> None:
    """Raise QuotaExceeded if one more request would pass a quota (tokens: once they reach the limit)."""
    for quota in quotas:
        current = _current(quota, totals[quota.period])
        over = current + 1 > quota.limit if quota.quota_type == "requests" else current >= quota.limit
        if over:
            raise QuotaExceeded(
                {
                    "department_id": department_id,
                    "quota_type": quota.quota_type,
                    "period": quota.period,
                    "limit": quota.limit,
                    "current": current,
                }
            )


class QuotaGate:
    """Refuses a regular user's turn when their department has used up one of its quotas.

    A ``requests`` quota allows ``limit`` turns per period (a turn is refused when one more would
    exceed it); a ``tokens`` quota refuses turns once the tokens in and out reach ``limit`` (the size of
    the next answer is not known in advance). Usage is counted from the ledger: an admitted turn of a
    regular user gets its row at once (so turns in flight count as requests), filled with its tokens
    when it ends; admins' and API clients' turns get theirs when they end. Admission is one
    transaction under the department's lock, so turns asked for at the same instant, also in other
    worker processes, cannot together pass a limit.
    """

    def __init__(self, accounts: AccountStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.accounts = accounts
        self.clock = clock

    async def admit(self, principal: Principal, session_id: str) -> int | None:
        """Admit a turn of ``principal`` in ``session_id``; return its reserved ledger row (None: not limited).

        A user without a department has no quotas to keep.

        Raises:
            QuotaExceeded: a quota of the department is used up; nothing is reserved.
            QuotaCheckFailed: the department or its usage could not be read (fail closed).
        """
        if not principal.limited or principal.department_id is None:
            return None
        department_id = principal.department_id
        try:
            quotas = await self.accounts.get_quotas(department_id)
            now = self.clock()
            return await self.accounts.reserve_request(
                department_id=department_id,
                user_id=principal.user_id,
                session_id=session_id,
                periods={q.period: period_start(q.period, now) for q in quotas},
                admit=lambda totals: _refuse_if_over(department_id, quotas, totals),
            )
        except UnknownDepartment:
            raise QuotaCheckFailed(
                f"quota check failed: department {department_id} not found", "err_quota_check"
            ) from None
        except QuotaExceeded:
            raise
        except Exception as exc:
            log.exception("quota lookup failed for department %s", department_id)
            raise QuotaCheckFailed(
                "quota check failed: the account store is unavailable", "err_quota_check"
            ) from exc

    async def usage(self, department_id: str, period: str) -> dict[str, Any]:
        """Return a department's usage in the current ``period`` and each of its quotas with its current figure.

        Raises:
            NotFound: no such department.
        """
        if await self.accounts.get_department(department_id) is None:
            raise NotFound("department not found")
        since = period_start(period, self.clock())
        totals = await self.accounts.usage_since(department_id, since)
        quotas = [q for q in await self.accounts.get_quotas(department_id) if q.period == period]
        return {
            "department_id": department_id,
            "period": period,
            "since": since,
            "requests": totals.requests,
            "prompt_tokens": totals.prompt_tokens,
            "completion_tokens": totals.completion_tokens,
            "total_tokens": totals.total_tokens,
            "quotas": [{**q.model_dump(), "current": _current(q, totals)} for q in quotas],
        }


def _current(quota: QuotaPublic, totals: UsageTotals) -> int:
    return totals.requests if quota.quota_type == "requests" else totals.total_tokens


class AccessControl:
    """Accounts as the service uses them: sign-in, tokens, principals, quotas and the usage ledger."""

    def __init__(
        self,
        accounts: AccountStore,
        *,
        enabled: bool,
        jwt_secret: str,
        token_ttl_s: int = 12 * 3600,
        api_key: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        throttle: SignInThrottle | None = None,
    ) -> None:
        self.accounts = accounts
        self.enabled = enabled
        self.token_ttl_s = token_ttl_s
        self.quota = QuotaGate(accounts, clock)
        # in this process's memory unless given one that counts in Redis (several workers)
        self.throttle = throttle if throttle is not None else SignInThrottle()
        self._secret = jwt_secret
        self._api_key = api_key

    async def resolve(self, *, api_key: str | None = None, token: str | None = None) -> Principal:
        """Return the principal that the credentials of a request prove.

        Accounts off: the API key (if configured) is checked as always; the token is ignored.
        Accounts on: a sign-in token, else the API key; nothing (or anything wrong) is refused.

        Raises:
            Unauthorized: missing, wrong or expired credentials.
        """
        if not self.enabled:
            if not api_key_ok(api_key, self._api_key):
                raise Unauthorized("invalid or missing API key")
            return Principal.api_client() if self._api_key else Principal.anonymous()
        if token:
            return await self.principal_from_token(token)
        if api_key and self._api_key and api_key_ok(api_key, self._api_key):
            return Principal.api_client()
        raise Unauthorized("sign in (Bearer token) or give the API key")

    def issue_token(self, user: UserPublic, token_version: int = 0) -> str:
        """Return a signed token for ``user``: claims ``sub`` (user id), ``role``, ``dept``, ``name``, ``ver``, ``exp``.

        ``ver`` is the user's token version: a password change raises it, which ends this token.
        """
        now = int(time.time())
        claims = {
            "sub": user.user_id,
            "role": user.role,
            "dept": user.department_id,
            "name": user.username,
            "ver": token_version,
            "iat": now,
            "exp": now + self.token_ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    async def authenticate(
        self, username: str, password: str, address: str | None = None
    ) -> tuple[str, UserPublic]:
        """Check a username and password sent from client ``address``; return a new token and the user.

        Failed sign-ins are throttled per username and per address; past a limit the password is not
        even checked, whether right or wrong.

        Raises:
            AccountsDisabled: accounts are off.
            SignInThrottled: too many failed sign-ins for this username or from this address.
            ThrottleUnavailable: the throttle's store is down (sign-ins are refused, not left unlimited).
            Unauthorized: unknown user, wrong password or disabled account (one message for all).
        """
        if not self.enabled:
            raise AccountsDisabled("user accounts are not enabled")
        attempt = await self.throttle.begin(username, address)
        try:
            standing = await self.accounts.check_password(username, password)
        except BaseException:  # no verdict (store down, request cancelled): the try does not count
            await self.throttle.forgive(attempt)
            raise
        if standing is None:
            raise Unauthorized("invalid username or password")
        await self.throttle.forgive(attempt)
        return self.issue_token(standing.user, standing.token_version), standing.user

    async def principal_from_token(self, token: str) -> Principal:
        """Return the principal of a valid token.

        The role and department come from the user's row as it is now, so a changed department,
        a demotion or a disabled account takes effect at once, not when the token expires; so does a
        password change, which ends every token with an older ``ver`` (no ``ver``: version 0).

        Raises:
            Unauthorized: a bad, expired or foreign token, a token from before a password change, or a
                user that is gone or disabled.
        """
        if not self.enabled:
            raise AccountsDisabled("user accounts are not enabled")
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.PyJWTError:
            raise Unauthorized("invalid or expired token") from None
        standing = await self.accounts.get_standing(str(claims["sub"]))
        if standing is None or standing.user.disabled or claims.get("ver", 0) != standing.token_version:
            raise Unauthorized("invalid or expired token")
        return Principal.of_user(standing.user, department_shell=standing.department_shell)

    async def principal_for_web(self, token: str | None) -> Principal:
        """Return the principal of the in-process web UI: anyone while accounts are off, else the token's user.

        The UI runs in the server process and needs no API key; with accounts on it keeps the token
        from :meth:`authenticate` and passes it here for each action that reaches the service.

        Raises:
            Unauthorized: accounts are on and the token is missing, bad or expired, or its user is disabled.
        """
        if not self.enabled:
            return Principal.anonymous()
        if not token:
            raise Unauthorized("sign in first")
        return await self.principal_from_token(token)

    async def profile(self, principal: Principal) -> tuple[UserPublic | None, DepartmentPublic | None]:
        """Return the signed-in user behind ``principal`` and their department (None where there is none)."""
        if principal.user_id is None:
            return None, None
        user = await self.accounts.get_user(principal.user_id)
        department = (
            await self.accounts.get_department(user.department_id) if user and user.department_id else None
        )
        return user, department

    def require_admin(self, principal: Principal) -> None:
        """Return if ``principal`` is a signed-in admin.

        Raises:
            AccountsDisabled: accounts are off.
            Forbidden: anyone else.
        """
        if not self.enabled:
            raise AccountsDisabled("user accounts are not enabled")
        if principal.role != "admin":
            raise Forbidden("admins only")

    async def admit(self, principal: Principal, session_id: str) -> int | None:
        """Admit a turn of ``principal`` or refuse it by its department's quotas (see :meth:`QuotaGate.admit`)."""
        return await self.quota.admit(principal, session_id)

    async def release(self, reservation: int) -> None:
        """Drop the ledger row of an admitted turn that ended without a billed answer."""
        await self.accounts.release(reservation)

    async def record_answer_usage(
        self,
        principal: Principal | None,
        session_id: str,
        metadata: dict[str, Any],
        reservation: int | None = None,
    ) -> bool:
        """Record the usage of a stored answer whose metadata carries a turn's or a run's ``usage``; True if recorded.

        One row per answered chat turn (cancelled ones included), board meeting or team run: the tokens
        of all its model calls together, written into the row reserved when the turn was admitted, or a
        new row. Event cards and errors are not counted; a turn whose model failed records nothing, and
        neither does the call that titles a new session.
        """
        usage = metadata.get("usage")
        if not isinstance(usage, dict) or metadata.get("message_type") not in BILLED_MESSAGE_TYPES:
            return False
        model, tier = str(metadata.get("model") or ""), metadata.get("tier")
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        if reservation is not None and await self.accounts.settle_usage(
            reservation, model=model, tier=tier, prompt_tokens=prompt, completion_tokens=completion
        ):
            return True
        who = principal or Principal.anonymous()
        await self.accounts.record_usage(
            session_id=session_id,
            user_id=who.user_id,
            department_id=who.department_id,
            model=model,
            tier=tier,
            prompt_tokens=prompt,
            completion_tokens=completion,
        )
        return True

    def bootstrap_admin(self, username: str, password: str | None) -> UserPublic | None:
        """Create the first admin if accounts are on and no admin exists; return it (None if none was made).

        Blocking: meant for startup. Without a password nothing is created and a warning is logged.
        """
        if not self.enabled or self.accounts.has_admin_now():
            return None
        if not password:
            log.warning(
                "user accounts are on but no admin exists and AGENTKIT_ADMIN_PASSWORD is unset: no admin created"
            )
            return None
        try:
            admin = self.accounts.create_user_now(username=username, password=password, role="admin")
        except Exception as exc:  # e.g. the name belongs to a regular user: an admin must decide
            log.warning("could not create the admin %r: %s", username, exc)
            return None
        log.info("created the admin %r", username)
        return admin
