"""The reader's thumbs up or down on the open conversation's answers, speeches, conclusions and syntheses.

``votes`` (message id to ``up`` or ``down``) is small and changes only when the reader votes; each
item card gets its own vote as a prop, so a vote renders again only the card voted on and a
streaming flush never carries it. The comments stay on the server side of the state, except the
one in the comment box.
"""

from __future__ import annotations

import reflex as rx

from agentkit_app.service.runtime import get_service
from agentkit_app.store.models import FEEDBACK_COMMENT_CHARS, FeedbackPublic
from agentkit_app.ui.i18n import t
from agentkit_app.ui.states.auth import guarded, signed_in
from agentkit_app.ui.states.prefs import PrefsState
from agentkit_app.ui.states.run_dialogs import session_in


class FeedbackState(rx.State):
    """The reader's votes in the open conversation, and the comment box of one of them."""

    votes: dict[str, str] = {}
    _comments: dict[str, str] = {}
    comment_for: str = ""  # the message whose comment box is open ("" = closed)
    comment_draft: str = ""

    def _show(self, votes: dict[str, FeedbackPublic]) -> None:
        """Show the reader's votes of a conversation just opened."""
        self.votes = {mid: vote.rating.value for mid, vote in votes.items()}
        self._comments = {mid: vote.comment for mid, vote in votes.items() if vote.comment}
        self.comment_for, self.comment_draft = "", ""

    async def _send(self, message_id: str, rating: str, comment: str) -> None:
        """Store the vote (``rating`` "": none) and show it."""
        principal = await signed_in(self)
        session_id = session_in(str(self.router.url.path))
        vote = await get_service().rate_message(session_id, message_id, rating or None, comment, principal)
        votes, comments = dict(self.votes), dict(self._comments)
        votes.pop(message_id, None)
        comments.pop(message_id, None)
        if vote is not None:
            votes[message_id] = vote.rating.value
            if vote.comment:
                comments[message_id] = vote.comment
        self.votes, self._comments = votes, comments

    @rx.event
    @guarded
    async def rate(self, message_id: str, rating: str):
        """Vote a message up or down; the same thumb again takes the vote back. A thumbs-down asks why."""
        if rating not in ("up", "down"):
            return
        new = "" if self.votes.get(message_id) == rating else rating
        comment = self._comments.get(message_id, "") if new else ""
        await self._send(message_id, new, comment)
        if new == "down":
            self.comment_for, self.comment_draft = message_id, comment

    @rx.event
    def open_comment(self, message_id: str) -> None:
        """Open the comment box of a vote."""
        if message_id in self.votes:
            self.comment_for, self.comment_draft = message_id, self._comments.get(message_id, "")

    @rx.event
    def close_comment(self) -> None:
        """Close the comment box; the vote stays as it is."""
        self.comment_for, self.comment_draft = "", ""

    @rx.event
    def set_comment_open(self, is_open: bool) -> None:
        """Close the comment box on Escape or a click outside it."""
        if not is_open:
            self.close_comment()

    @rx.event
    @guarded
    async def save_comment(self, form_data: dict):
        """Keep the comment with the vote (an empty one removes it) and close the box."""
        message_id, rating = self.comment_for, self.votes.get(self.comment_for, "")
        text = str(form_data.get("comment") or "")[: FEEDBACK_COMMENT_CHARS * 2].strip()
        self.comment_draft = text
        if not message_id or not rating:
            return self.close_comment()
        await self._send(message_id, rating, text)
        self.close_comment()
        lang = (await self.get_state(PrefsState)).lang
        return rx.toast.success(t("feedback_thanks", lang), duration=2000)
