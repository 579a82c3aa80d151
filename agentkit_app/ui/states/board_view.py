"""How the reader looks at the board meetings on the page: which one expert each meeting is narrowed to.

Jumping to a round or the conclusion happens in the browser alone (see ``components.board``); only the
filter is state, so the cards of every kind of page (the conversation, a shared one) hide and show
without their items being sent again.
"""

from __future__ import annotations

import reflex as rx

MAX_NAME_CHARS = 200  # longer than any board id or expert name the app makes


def narrowed(filters: dict[str, str], board: str, expert: str) -> dict[str, str]:
    """Return ``filters`` with ``board`` narrowed to ``expert``, or widened again if it already was.

    A malformed board id or name (empty, not text, too long) changes nothing.
    """
    if not _valid(board) or not _valid(expert):
        return filters
    if filters.get(board) == expert:
        return widened(filters, board)
    return {**filters, board: expert}


def widened(filters: dict[str, str], board: str) -> dict[str, str]:
    """Return ``filters`` without a filter on ``board``: all its experts show."""
    return {key: name for key, name in filters.items() if key != board}


def _valid(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS


class BoardViewState(rx.State):
    """The expert each board meeting shown is narrowed to, by the meeting's id (its header's); absent: all."""

    filters: dict[str, str] = {}

    @rx.event
    def show_only(self, board: str, expert: str) -> None:
        """Show only ``expert``'s speeches in the meeting ``board`` (again: show everyone's)."""
        self.filters = narrowed(self.filters, board, expert)

    @rx.event
    def show_all(self, board: str) -> None:
        """Show every expert's speeches in the meeting ``board`` again."""
        self.filters = widened(self.filters, board)

    def _clear(self) -> None:
        """Forget every filter: another conversation opens (its meetings' ids are the same ``board-N``)."""
        if self.filters:
            self.filters = {}
