"""The error replies of the API, declared in its OpenAPI schema: ``{"detail": ...}`` with a status.

Every route names the error statuses it may answer with :func:`error_responses`, so that a
client (and the schema fuzz in the tests) knows each one and the shape of its body.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, Field


class Problem(BaseModel):
    """An error reply: what went wrong (for invalid fields, FastAPI's list of them)."""

    detail: str | list[dict[str, Any]]
    quota_info: dict[str, Any] | None = Field(
        default=None,
        description="with 429 for a used-up quota: department_id, quota_type, period, limit, current",
    )


# what a client is told when the database refuses a value it sent (PostgreSQL stores no NUL character)
UNSTORABLE = "the request holds a value the database cannot store (a NUL character, or a number too large)"
# Text that a turn stores while it runs, after the request has been answered or acknowledged: checked
# up front, since a refusal by the database then could no longer reach the client.
StorableText = Annotated[str, Field(pattern=r"^[^\x00]*$", description="any text without NUL characters")]

_WHY = {
    400: "the session is closed, the body cannot be parsed, or a Last-Event-ID is not an event id",
    401: "missing, wrong or expired credentials",
    403: "signed in, but not allowed (e.g. not an admin)",
    404: "not found (or not the caller's): a session, agent, message, pending request, file, user or department",
    409: "a conflict: the session is busy with a run, the run was stopped, the name is taken, or too many tokens",
    413: "the file is larger than the upload limit",
    422: "invalid input",
    429: "a department quota is used up, or too many runs at once",
    502: "the model endpoint failed and no fallback answered",
    503: "a store the request needs (quotas, team checkpoints) cannot be reached",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` of the error statuses a route may answer, each a :class:`Problem`."""
    return {code: {"model": Problem, "description": _WHY[code]} for code in codes}


# FastAPI's own answer to a body it cannot parse (not UTF-8, not JSON): every route with a body may give it
_UNPARSABLE_BODY = {
    "description": "the body cannot be parsed",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
        }
    },
}


def declare_framework_errors(api: FastAPI) -> None:
    """Make ``api``'s OpenAPI schema declare the errors FastAPI answers by itself, route by route."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        first = api.openapi_schema is None
        schema = build()
        if first:
            for operations in schema["paths"].values():
                for operation in operations.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("400", _UNPARSABLE_BODY)
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
