"""Readiness: whether what the app needs to serve answers (the database, Redis when configured)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field

from agentkit_app.service.chat import ChatService
from agentkit_app.store.db import ping

log = logging.getLogger(__name__)

# how long one dependency may take to answer before it counts as down
CHECK_TIMEOUT_S = 3.0


@dataclass
class Readiness:
    """Each dependency checked, ``"ok"`` or why it failed; ready when all are ok."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Whether every dependency answered."""
        return all(state == "ok" for state in self.checks.values())


async def _check(name: str, probe: Awaitable[None], readiness: Readiness) -> None:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
        readiness.checks[name] = "ok"
    except TimeoutError:
        readiness.checks[name] = f"no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as exc:  # what failed is the answer; the message names no secret
        log.warning("readiness: %s failed: %s", name, exc)
        readiness.checks[name] = f"{type(exc).__name__}: {str(exc)[:200]}"


async def readiness(service: ChatService) -> Readiness:
    """Check the database and the checkpoint store (Redis when configured) side by side."""
    result = Readiness()
    await asyncio.gather(
        _check("database", ping(service.store.engine), result),
        _check("checkpoints", service.checkpoints.ping(), result),
    )
    return result
