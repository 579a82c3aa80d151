"""Who is asking and what they may do: principals, sign-in tokens, session visibility, department quotas.

Every transport turns its credentials into a :class:`Principal` with :meth:`AccessControl.resolve`
(REST and WebSocket) or :meth:`AccessControl.authenticate` plus :meth:`AccessControl.principal_for_web`
(the in-process web UI), and hands it to the service, which refuses what the principal may not do.
Quotas are kept by :class:`~agentkit_app.service.quotas.QuotaGate`, and what answers cost is written
by :class:`~agentkit_app.service.billing.UsageLedger`; :class:`AccessControl` holds both for a principal.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import jwt

from agentkit_app.service.billing import UsageLedger
from agentkit_app.service.errors import AccountsDisabled, Forbidden, QuotaExceeded, Unauthorized
from agentkit_app.service.observe import quota_refused
from agentkit_app.service.quotas import QuotaGate, period_start
from agentkit_app.service.throttle import SignInThrottle
from agentkit_app.service.tokens import PersonalTokens, is_personal_token
from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.models import DepartmentPublic, SessionPublic, UserPublic, utcnow
from agentkit_app.store.records import AnyRecord
from agentkit_app.store.tokens import ApiTokenStore

# QuotaGate and period_start are kept importable from here, where callers and tests have found them
__all__ = ["AccessControl", "Principal", "QuotaGate", "api_key_ok", "enabled_access", "period_start"]

log = logging.getLogger(__name__)

Role = Literal["admin", "user", "apikey", "anonymous"]
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
    # the id of the personal API token the request came with (None: a sign-in, the API key, or anyone)
    token_id: str | None = None

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


@dataclass
class RunBilling:
    """Who started a run in flight, the ledger row reserved when it was admitted, and whether it is billed."""

    principal: Principal
    reservation: int | None = None
    billed: bool = False


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
        self.ledger = UsageLedger(accounts)
        self.tokens = PersonalTokens(ApiTokenStore(accounts.engine), clock)
        # in this process's memory unless given one that counts in Redis (several workers)
        self.throttle = throttle if throttle is not None else SignInThrottle()
        self._secret = jwt_secret
        self._api_key = api_key

    async def resolve(self, *, api_key: str | None = None, token: str | None = None) -> Principal:
        """Return the principal that the credentials of a request prove.

        Accounts off: the API key (if configured) is checked as always; the token is ignored.
        Accounts on: a sign-in token or a personal API token (``ak_...``, as a Bearer token or in the
        API key's place), else the API key; nothing (or anything wrong) is refused.

        Raises:
            Unauthorized: missing, wrong or expired credentials.
        """
        if not self.enabled:
            if not api_key_ok(api_key, self._api_key):
                raise Unauthorized("invalid or missing API key")
            return Principal.api_client() if self._api_key else Principal.anonymous()
        if token:
            if is_personal_token(token):
                return await self.principal_from_api_token(token)
            return await self.principal_from_token(token)
        if api_key and self._api_key and api_key_ok(api_key, self._api_key):
            return Principal.api_client()
        if is_personal_token(api_key):
            return await self.principal_from_api_token(str(api_key))
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

    async def principal_from_api_token(self, token: str) -> Principal:
        """Return the principal of a personal API token: its user, as their account stands now.

        Raises:
            Unauthorized: a malformed, unknown, revoked or expired token, or a disabled user.
        """
        holder = await self.tokens.holder(token)
        if holder.standing.user.disabled:
            raise Unauthorized("invalid or expired API token")
        principal = Principal.of_user(holder.standing.user, department_shell=holder.standing.department_shell)
        return replace(principal, token_id=holder.token_id)

    def token_owner(self, principal: Principal, *, creating: bool = False) -> str:
        """Return the user whose personal API tokens ``principal`` may list and revoke (or, ``creating``, make).

        Raises:
            AccountsDisabled: accounts are off.
            Forbidden: not a signed-in user (the API key), or making a token with a token: a leaked
                token must not be able to mint the thief a spare one.
        """
        if not self.enabled:
            raise AccountsDisabled("user accounts are not enabled")
        if principal.user_id is None:
            raise Forbidden("personal API tokens belong to signed-in users")
        if creating and principal.token_id is not None:
            raise Forbidden("sign in with a password to make a token")
        return principal.user_id

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
        """Return if ``principal`` is an admin signed in with a password.

        An admin's personal API token acts as the admin in chats (every session, no quotas) but does
        not administer accounts: a leaked token cannot make users, change passwords or revoke tokens.

        Raises:
            AccountsDisabled: accounts are off.
            Forbidden: anyone else, and an admin's personal API token.
        """
        if not self.enabled:
            raise AccountsDisabled("user accounts are not enabled")
        if principal.role != "admin":
            raise Forbidden("admins only")
        if principal.token_id is not None:
            raise Forbidden("administration needs a sign-in, not a personal API token")

    async def admit(self, principal: Principal, session_id: str) -> int | None:
        """Admit a turn of ``principal``; return its reserved ledger row (None: quotas do not limit it).

        Only regular users are limited, and a user without a department has no quotas to keep.

        Raises:
            QuotaExceeded: a quota of the department is used up; nothing is reserved.
            QuotaCheckFailed: the department or its usage could not be read (fail closed).
        """
        if not principal.limited or principal.department_id is None:
            return None
        try:
            return await self.quota.admit(
                department_id=principal.department_id, user_id=principal.user_id, session_id=session_id
            )
        except QuotaExceeded as exc:
            quota_refused(exc.quota_info)
            raise

    async def release(self, reservation: int) -> None:
        """Drop the ledger row of an admitted turn that ended without a billed answer."""
        await self.ledger.release(reservation)

    async def record_answer_usage(
        self,
        principal: Principal | None,
        session_id: str,
        record: AnyRecord,
        reservation: int | None = None,
    ) -> bool:
        """Bill a stored answer of ``principal`` (None: anyone); True if it was recorded (see :meth:`UsageLedger.record_answer`)."""
        who = principal or Principal.anonymous()
        return await self.ledger.record_answer(
            session_id=session_id,
            record=record,
            user_id=who.user_id,
            department_id=who.department_id,
            reservation=reservation,
        )

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
