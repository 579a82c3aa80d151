"""Billing: one usage-ledger row per answered turn or run, filled from the usage its stored answer carries."""

from __future__ import annotations

from agentkit_app.store.accounts import AccountStore
from agentkit_app.store.records import BILLED, AnyRecord, ChatAnswer, RunAnswer

__all__ = ["UsageLedger"]


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
        record: AnyRecord,
        user_id: str | None,
        department_id: str | None,
        reservation: int | None = None,
    ) -> bool:
        """Record the usage of a stored answer that carries a turn's or a run's ``usage``; True if recorded.

        One row per answered chat turn (cancelled ones included), board meeting or team run: the tokens
        of all its model calls together, written into the row reserved when the turn was admitted, or a
        new row for ``user_id`` of ``department_id``. Event cards and errors are not counted; a turn
        whose model failed records nothing, and neither does the call that titles a new session
        (board and team event cards repeat their run's total and are not counted again).
        """
        if (
            not isinstance(record, ChatAnswer | RunAnswer)
            or record.message_type not in BILLED
            or not record.usage
        ):
            return False
        model, tier = record.model or "", record.tier
        prompt, completion = record.usage.prompt_tokens, record.usage.completion_tokens
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
