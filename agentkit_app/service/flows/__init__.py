"""What a run does, one flow per kind of run, each a peer behind the same entry: ``async def run(ctx)``.

The service admits and launches a run and builds its :class:`RunContext`; the flow of the run's kind
(:data:`FLOWS`) does the work and records what it produces through ``ctx.recorder``.
"""

from __future__ import annotations

from agentkit_app.service.flows import board, chat, team
from agentkit_app.service.flows.context import FencedCheckpoints, Flow, Recorder, Resumption, RunContext
from agentkit_app.service.flows.records import BOARD_AGENT, TEAM_AGENT, event_message
from agentkit_app.service.flows.usage import UsageCounter

# every kind of run and its flow; "team_resume" continues an interrupted team run from its checkpoint
FLOWS: dict[str, Flow] = {
    "chat": chat.run,
    "board": board.run,
    "team": team.run,
    "team_resume": team.resume,
}

__all__ = [
    "BOARD_AGENT",
    "FLOWS",
    "FencedCheckpoints",
    "TEAM_AGENT",
    "Flow",
    "Recorder",
    "Resumption",
    "RunContext",
    "UsageCounter",
    "event_message",
]
