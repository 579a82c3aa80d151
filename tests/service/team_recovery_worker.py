"""A server process for the team recovery test: runs ``@team`` until the test kills it.

Run as ``python -m tests.service.team_recovery_worker DIR REDIS_PREFIX`` from the repository
root. It builds the service on the SQLite file ``DIR/agentkit.db`` with team checkpoints in
the real Redis under ``REDIS_PREFIX``, starts ``@team ship the release`` with a scripted model
whose second phase (Build) takes a minute, prints ``{"session_id", "run_id"}`` as one JSON
line, and follows the run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

from agentkit_app.engine.llm.base import ChatModel
from agentkit_app.engine.llm.scripted import Call, Reply, ScriptedModel
from agentkit_app.engine.tools import ToolContext
from agentkit_app.service.catalog import load_catalog
from agentkit_app.service.chat import ChatService, ServiceConfig, TurnRequest
from agentkit_app.service.uploads import UploadStore
from agentkit_app.store.checkpoint import RedisCheckpointStore
from agentkit_app.store.db import make_engine, run_migrations
from agentkit_app.store.sessions import SessionManager

REDIS_URL = "redis://127.0.0.1:6379/0"
TASK = "@team ship the release"
PLAN = {
    "phases": [
        {"id": "a", "name": "Design", "expert": "Product Manager", "depends_on": [], "goal": "design"},
        {"id": "b", "name": "Build", "expert": "Developer", "depends_on": ["a"], "goal": "build"},
        {"id": "c", "name": "Review", "expert": "Reviewer", "depends_on": ["b"], "goal": "review"},
    ]
}


def build_service(directory: Path, prefix: str, llm: ChatModel) -> ChatService:
    """Return a service like the app's, on ``directory/agentkit.db`` and Redis checkpoints under ``prefix``."""
    url = f"sqlite:///{directory / 'agentkit.db'}"
    run_migrations(url)
    return ChatService(
        store=SessionManager(make_engine(url)),
        catalog=load_catalog(),
        llm=llm,
        config=ServiceConfig(tool_context=ToolContext(directory / "uploads", directory / "scratch", 5.0)),
        checkpoints=RedisCheckpointStore(REDIS_URL, prefix=prefix, ttl_s=600),
        uploads=UploadStore(directory / "uploads", 1024 * 1024),
    )


def phase_name(call: Call) -> str:
    """Return the phase a ``team.phase`` call asks for."""
    return call.messages[-1]["content"].split("Your phase: ")[1].split("\n")[0]


def scripted_team(phase_calls: Counter[str], slow_phase: str | None = None) -> ScriptedModel:
    """Return a model that plans Design -> Build -> Review, counting the phase calls by name."""

    def answer(call: Call) -> Reply:
        if call.purpose == "team.plan":
            return Reply(text=json.dumps(PLAN))
        if call.purpose == "team.phase":
            name = phase_name(call)
            phase_calls[name] += 1
            return Reply(text=f"{name} done", delay=60.0 if name == slow_phase else 0.0)
        return Reply(text="The release is out.")

    return ScriptedModel(answer)


async def main(directory: Path, prefix: str) -> None:
    """Start the team run, report its ids, and follow it (until the test kills this process)."""
    service = build_service(directory, prefix, scripted_team(Counter(), slow_phase="Build"))
    session = await service.create_session("assistant")
    run = await service.start_turn(TurnRequest(session_id=session.session_id, content=TASK))
    print(json.dumps({"session_id": session.session_id, "run_id": run.run_id}), flush=True)
    async for _ in run.follow():
        pass


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
