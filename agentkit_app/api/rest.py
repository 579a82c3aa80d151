"""The REST routes under ``/api/v1/chat``, one router per resource, put together under one prefix.

Every route needs credentials; a route about a session answers 404 when it is not the caller's.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from agentkit_app.api import feedback, files, sessions, shares, streams, turns
from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import authorize_session

router = APIRouter(
    prefix="/api/v1/chat",
    dependencies=[Depends(authorize_session)],
    tags=["chat"],
    responses=error_responses(401),
)
for resource in (sessions.router, turns.router, streams.router, files.router, feedback.router, shares.router):
    router.include_router(resource)
