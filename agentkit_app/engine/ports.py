"""What the engine needs from the outside, as Protocols the store implements."""

from __future__ import annotations

from typing import Any, Protocol


class CheckpointStore(Protocol):
    """Keeps a run's state (JSON-able dict) so a crashed run can resume."""

    async def save(self, run_id: str, state: dict[str, Any]) -> None:
        """Store the state of a run (replacing the previous one)."""
        ...

    async def load(self, run_id: str) -> dict[str, Any] | None:
        """Return the last stored state of a run, or None."""
        ...

    async def delete(self, run_id: str) -> None:
        """Forget a run."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness checks)."""
        ...


class MemoryCheckpointStore:
    """An in-process checkpoint store (used when no Redis URL is configured)."""

    def __init__(self) -> None:
        self._runs: dict[str, dict[str, Any]] = {}

    async def save(self, run_id: str, state: dict[str, Any]) -> None:
        """Store the state of a run."""
        self._runs[run_id] = state

    async def load(self, run_id: str) -> dict[str, Any] | None:
        """Return the stored state of a run, or None."""
        return self._runs.get(run_id)

    async def delete(self, run_id: str) -> None:
        """Forget a run."""
        self._runs.pop(run_id, None)

    async def ping(self) -> None:
        """Nothing to reach: an in-process store is always there."""
