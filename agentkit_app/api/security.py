"""The API key check shared by the REST routes and the WebSocket."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from agentkit_app.settings import get_settings


def api_key_ok(given: str | None) -> bool:
    """Return whether the key is right (always, when no key is configured); constant time."""
    expected = get_settings().api_key
    if not expected:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode())


def require_api_key(request: Request) -> None:
    """Refuse a request without the configured API key (header ``X-API-Key`` or ``api_key`` query)."""
    given = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if not api_key_ok(given):
        raise HTTPException(status_code=401, detail="invalid or missing API key")


ApiKeyDep = Annotated[None, Depends(require_api_key)]
