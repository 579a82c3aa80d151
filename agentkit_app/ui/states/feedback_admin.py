"""The admin page's Feedback section: readers' votes, newest first, filtered by agent, expert and rating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reflex as rx

from agentkit_app.service.errors import AccountsDisabled
from agentkit_app.service.runtime import get_service
from agentkit_app.store.models import FeedbackEntry
from agentkit_app.ui.states.auth import AdminRequired, guarded, signed_in

# a Radix select item cannot have an empty value: this one means "any"
ANY = "any"
PAGE = 50


@dataclass
class FeedbackRow:
    """One vote as the admin's table shows it."""

    message_id: str = ""
    session_id: str = ""
    when: str = ""
    rating: str = ""
    source: str = ""  # the expert who spoke, or the agent that answered
    kind: str = ""
    username: str = ""
    excerpt: str = ""
    comment: str = ""


@dataclass
class TallyRow:
    """An agent or expert with how many thumbs up and down its messages have."""

    name: str = ""
    up: int = 0
    down: int = 0


def feedback_row(entry: FeedbackEntry) -> FeedbackRow:
    """Return the table row of a vote."""
    return FeedbackRow(
        message_id=entry.message_id,
        session_id=entry.session_id,
        when=entry.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
        rating=entry.rating.value,
        source=entry.expert_name or entry.agent_name or "",
        kind=entry.message_type,
        username=entry.username or "",
        excerpt=entry.excerpt,
        comment=entry.comment,
    )


class FeedbackAdminState(rx.State):
    """The votes shown, the filters, and whether older ones may be read."""

    rows: list[FeedbackRow] = []
    # every agent and expert with votes, with their thumbs (the filters offer them)
    agents: list[TallyRow] = []
    experts: list[TallyRow] = []
    agent: str = ANY
    expert: str = ANY
    rating: str = ANY
    more: bool = False
    _oldest: str = ""  # when the last shown vote was changed (ISO), where "older" goes on

    async def _read(self, *, older: bool = False) -> None:
        try:
            principal = await signed_in(self, admin=True)
        except AccountsDisabled as exc:
            raise AdminRequired from exc
        service = get_service()
        before = None
        if older and self._oldest:
            before = datetime.fromisoformat(self._oldest)
        entries = await service.feedback_list(
            principal,
            agent=None if self.agent == ANY else self.agent,
            expert=None if self.expert == ANY else self.expert,
            rating=None if self.rating == ANY else self.rating,
            limit=PAGE,
            before=before,
        )
        rows = [feedback_row(e) for e in entries]
        self.rows = [*self.rows, *rows] if older else rows
        self.more = len(entries) == PAGE
        if entries:
            self._oldest = entries[-1].updated_at.isoformat()
        summary = await service.feedback_summary(principal)
        self.agents = [TallyRow(t.name, t.up, t.down) for t in summary.agents]
        self.experts = [TallyRow(t.name, t.up, t.down) for t in summary.experts]

    @rx.event
    @guarded
    async def load(self):
        """On opening the admin page: the newest votes, with the filters as they were."""
        await self._read()

    @rx.event
    @guarded
    async def set_filter(self, name: str, value: str):
        """Show only the votes on one agent's or expert's messages, or of one rating ("any": all)."""
        if name not in ("agent", "expert", "rating"):
            return
        setattr(self, name, value or ANY)
        await self._read()

    @rx.event
    @guarded
    async def older(self):
        """Add the next page of older votes."""
        await self._read(older=True)
