"""The requests the service refuses, each with the HTTP status a REST client gets."""

from __future__ import annotations

from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.store.checkpoint import CheckpointUnavailable

# the store's errors that mean a backing store (Redis) is down: a transport answers 503, and names them
# from here so that it need not reach into the store
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (CheckpointUnavailable,)


class ServiceError(Exception):
    """A request the service refuses; ``status`` is the HTTP status a REST client gets.

    The message is English, for API clients and logs. ``key`` (an entry of the i18n table) and
    ``params`` let the web UI say the same in the user's language.
    """

    status = 400

    def __init__(self, message: str, key: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


class NotFound(ServiceError):
    """Unknown session or agent."""

    status = 404


class SessionClosed(ServiceError):
    """The session is closed and takes no new message."""

    status = 400


class InvalidInput(ServiceError):
    """Empty or over-long content, or a bad option."""

    status = 422


class Conflict(ServiceError):
    """The session is busy with a run that must end (or be stopped) first."""

    status = 409


class Busy(ServiceError):
    """Too many runs in flight."""

    status = 429


class QuotaExceeded(ServiceError):
    """The user's department has used up one of its quotas: the turn is refused and nothing is stored.

    ``quota_info`` is ``{department_id, quota_type, period, limit, current}``.
    """

    status = 429

    def __init__(self, quota_info: dict[str, Any]) -> None:
        super().__init__("quota exceeded", "err_quota", **quota_info)
        self.quota_info = quota_info

    def event(self) -> ev.Error:
        """Return the ``error`` event that tells a streaming client."""
        return ev.Error(message="quota exceeded", code="quota", quota_info=dict(self.quota_info))


class QuotaCheckFailed(ServiceError):
    """The quotas could not be read (store down, department gone): the turn is refused (fail closed)."""

    status = 503


class Unauthorized(ServiceError):
    """No credentials, or wrong or expired ones."""

    status = 401


class Forbidden(ServiceError):
    """Signed in, but not allowed (e.g. a user on an admin route)."""

    status = 403


class AccountsDisabled(ServiceError):
    """User accounts are off in this deployment (``AGENTKIT_AUTH_ENABLED``)."""

    status = 404
