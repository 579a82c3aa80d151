"""What a run leaves when the process running it dies: a partial answer kept, finished speeches, a resumable team.

Another process (the one that finds the owner's lease expired, see
:mod:`agentkit_app.service.redis_runs`) calls :func:`record_interruption` once with the events the
run had published, and hands its followers the event returned.
"""

from __future__ import annotations

from agentkit_app.engine import events as ev
from agentkit_app.engine.i18n import has_cjk, t
from agentkit_app.service.flows.context import Persist
from agentkit_app.store.records import ChatAnswer, ErrorRecord
from agentkit_app.store.sessions import SessionManager


def streamed_answer(events: list[ev.Event]) -> str:
    """Return the answer text a chat run had streamed: its tokens since its last thinking step."""
    parts: list[str] = []
    for event in events:
        if isinstance(event, ev.Token):
            parts.append(event.content)
        elif isinstance(event, ev.Thinking):
            parts.clear()
    return "".join(parts).strip()


async def record_interruption(
    persist: Persist, store: SessionManager, session_id: str, kind: str, events: list[ev.Event]
) -> list[ev.Event]:
    """Store what an interrupted run leaves and return the events that tell its followers.

    A chat answer keeps what had streamed, stored as interrupted (the user may retry it); a board
    meeting has stored each finished speech already; a team run stays marked running in its
    session, so it shows Resume. A run that had answered loses nothing and gets no event.
    """
    if any(isinstance(e, ev.FinalAnswer | ev.Error) for e in events):
        return []
    session = await store.get_session(session_id)
    text = streamed_answer(events)
    language = "zh" if has_cjk(text or (session.title if session else "") or "") else "en"
    if kind == "chat":
        agent = session.agent_name if session else None
        await persist(session_id, ChatAnswer(agent_name=agent, interrupted=True), text, agent_name=agent)
        return [ev.Error(message=t("run_interrupted", language), code="interrupted")]
    if kind == "board":
        message = t("board_interrupted", language)
        await persist(session_id, ErrorRecord(), message)
        return [ev.Error(message=message, code="interrupted")]
    return [ev.Error(message=t("team_interrupted", language), code="interrupted")]
