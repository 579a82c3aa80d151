"""Billing: one usage-ledger row per answered turn or run, filled from the usage its stored answer carries."""

from __future__ import annotations

from typing import Any

from agentkit_app.store.accounts import AccountStore

__all__ = ["UsageLedger"]

# assistant answers whose metadata carries the usage of a whole turn or run: one ledger row each
# (board and team event cards repeat their run's total and are not counted again)
BILLED_MESSAGE_TYPES = (None, "board_final", "team_final")


class UsageLedger:
    """Writes what answered turns cost into the accounts' usage ledger, and drops rows of turns that never answered."""

    def __init__(self, accounts: AccountStore) -> None:
        self.accounts = accounts

    async def release(self, reservation: int) -> None:
        """Drop the ledger row of an admitted turn that ended without a billed answer."""
        await self.accounts.release(reservation)

    async def record_answer(
        self,
        *,
        session_id: str,
        metadata: dict[str, Any],
        user_id: str | None,
        department_id: str | None,
        reservation: int | None = None,
    ) -> bool:
        """Record the usage of a stored answer whose metadata carries a turn's or a run's ``usage``; True if recorded.

        One row per answered chat turn (cancelled ones included), board meeting or team run: the tokens
        of all its model calls together, written into the row reserved when the turn was admitted, or a
        new row for ``user_id`` of ``department_id``. Event cards and errors are not counted; a turn
        whose model failed records nothing, and neither does the call that titles a new session.
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
        await self.accounts.record_usage(
            session_id=session_id,
            user_id=user_id,
            department_id=department_id,
            model=model,
            tier=tier,
            prompt_tokens=prompt,
            completion_tokens=completion,
        )
        return True
