"""What a running turn waits for from its user: confirmations, answers, and mid-run messages."""

from __future__ import annotations

import asyncio


class Interaction:
    """The pending questions of one run and the messages the user sent into it.

    A confirmation or question is a future keyed by its id; :meth:`answer` resolves it from
    whichever transport the user's reply arrived on. Mid-run messages (board or team
    interventions) queue in an inbox that the orchestrator drains before each speaker or phase.
    """

    def __init__(self, confirmation_timeout_s: float = 300.0) -> None:
        self.confirmation_timeout_s = confirmation_timeout_s
        self._pending: dict[str, asyncio.Future[object]] = {}
        self._inbox: list[str] = []

    def expect(self, key: str) -> None:
        """Register a confirmation or question before it is shown, so an instant answer is not lost."""
        if key not in self._pending:
            self._pending[key] = asyncio.get_running_loop().create_future()

    def _future(self, key: str) -> asyncio.Future[object]:
        self.expect(key)
        return self._pending[key]

    async def confirm(self, confirmation_id: str) -> bool:
        """Wait for the user's approval; a timeout (or cancel) counts as denied."""
        fut = self._future(confirmation_id)
        try:
            return bool(await asyncio.wait_for(fut, self.confirmation_timeout_s))
        except TimeoutError:
            return False
        finally:
            self._pending.pop(confirmation_id, None)

    async def ask(self, request_id: str, timeout_s: float | None = None) -> str | None:
        """Wait for the user's answer to a question; None when nobody answered in time."""
        fut = self._future(request_id)
        try:
            return str(await asyncio.wait_for(fut, timeout_s or self.confirmation_timeout_s))
        except TimeoutError:
            return None
        finally:
            self._pending.pop(request_id, None)

    def answer(self, key: str, value: object) -> bool:
        """Resolve a pending confirmation or question; False if nothing waits under that id."""
        fut = self._pending.get(key)
        if fut is None or fut.done():
            return False
        fut.set_result(value)
        return True

    def pending(self) -> list[str]:
        """Return the ids still waiting for the user."""
        return list(self._pending)

    def post(self, text: str) -> None:
        """Queue a user message for the running board or team."""
        self._inbox.append(text)

    def drain(self) -> list[str]:
        """Return and clear the queued user messages."""
        items, self._inbox = self._inbox, []
        return items
