"""Board and team wall time: a board's opening round against one speech, a team's phases against
their critical path, in the engine itself (no server), through one paced in-process model.

``python -m bench.board_team --experts 4 --tokens 200 --rate 100 --ttft 0.2 --repeat 3``

The model (:class:`PacedDemoModel`) answers every prompt as the offline demo model does
(``DemoModel.reply_for``), except the team's plan, and streams the reply a word a token, token
``i`` (from 0) due ``ttft + i / rate`` seconds after the call, scheduled against that start so the
pacing does not drift. A board speech and a team phase are ``--tokens`` tokens long: the demo's
words, then numbered filler tokens. The plan gives ``--experts - 1`` phases that need nothing and
one last phase that needs them all, so its critical path is two phase replies.

- **board**: ``--experts`` experts, one round. From the start of the run to the last opening
  speech (``expert_speech`` of round 1), against one speech of the same length alone.
- **team**: ``--experts`` members. From the first ``phase_started`` to the last
  ``phase_completed`` (planning and synthesis excluded), against the critical path: two phase
  replies one after the other through the same model.

Each is measured ``--repeat`` times, baseline and all, in the same run; the table shows medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from agentkit_app.engine import events as ev
from agentkit_app.engine.board import BoardOrchestrator
from agentkit_app.engine.experts import Expert
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import ChatModel, Chunk, Message, TextDelta, UsageInfo, text_deltas
from agentkit_app.engine.llm.demo import DemoModel
from agentkit_app.engine.ports import MemoryCheckpointStore
from agentkit_app.engine.team import TeamOrchestrator
from bench.common import Row, format_table
from bench.paced_model import MODEL_NAME, Pace, token_text

TOPIC = "Should we open a second office?"
TASK = "Write a launch plan for the mobile app."
LONG_PURPOSES = frozenset({"board.speech", "team.phase"})  # the replies that are ``tokens`` long
BOARD_TARGET = 1.3
TEAM_TARGET = 1.15
_WORDS = re.compile(r"\S+\s*|\s+")


def independent_plan(members: list[Expert]) -> dict[str, Any]:
    """Return a plan: one phase per member but the last, needing nothing; the last member's phase needs them all."""
    side_by_side = [
        {
            "id": f"p{i + 1}",
            "name": f"Part {i + 1}",
            "expert": m.name,
            "depends_on": [],
            "goal": f"Part {i + 1}",
        }
        for i, m in enumerate(members[:-1])
    ]
    closing = {
        "id": f"p{len(members)}",
        "name": "Put it together",
        "expert": members[-1].name,
        "depends_on": [p["id"] for p in side_by_side],
        "goal": "Put the parts together",
    }
    return {"phases": [*side_by_side, closing]}


class PacedDemoModel:
    """The demo model's replies, streamed at a set pace; speeches and phases padded to ``pace.tokens`` tokens."""

    label = "paced demo model"

    def __init__(self, pace: Pace, plan: dict[str, Any] | None = None) -> None:
        self.pace = pace
        self.plan = plan
        self._demo = DemoModel(word_delay_s=0)

    def reply_tokens(
        self, messages: list[Message], tools: list[dict[str, Any]] | None, purpose: str
    ) -> list[str]:
        """Return the tokens of the reply to a prompt, in order."""
        if purpose == "team.plan" and self.plan is not None:
            text = json.dumps(self.plan)
        else:
            text, _ = self._demo.reply_for(messages, tools, purpose)
        words = _WORDS.findall(text)
        if purpose not in LONG_PURPOSES:
            return words
        count = self.pace.tokens
        if words:
            words[-1] = words[-1].rstrip() + " "
        return (words + [token_text(i, count) for i in range(len(words), count)])[:count]

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Stream the reply: token ``i`` due ``ttft + i / rate`` seconds after the call; then the usage."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        tokens = self.reply_tokens(messages, tools, purpose)
        for index, token in enumerate(tokens):
            wait = start + self.pace.due_s(index) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            yield TextDelta(token)
        yield UsageInfo(
            prompt_tokens=sum(len(str(m.get("content") or "")) for m in messages) // 4,
            completion_tokens=len(tokens),
            model=model or MODEL_NAME,
        )


def make_experts(count: int) -> tuple[list[Expert], Expert]:
    """Return ``count`` experts and a moderator."""
    experts = [
        Expert(name=f"Expert {i + 1}", avatar="E", color="#336699", persona=f"the expert on area {i + 1}.")
        for i in range(count)
    ]
    moderator = Expert(
        name="Moderator", avatar="M", color="#666666", persona="a fair chair.", is_moderator=True
    )
    return experts, moderator


@dataclass
class Timed:
    """One run of the engine: how long the measured stretch took, and every event it yielded."""

    seconds: float
    events: list[ev.Event] = field(default_factory=list)


async def _timed_events(
    events: AsyncIterator[ev.Event], start: type[ev.Event] | None, end: type[ev.Event]
) -> Timed:
    """Consume ``events``; time from the first ``start`` event (None: from now) to the last ``end`` event."""
    began = time.perf_counter() if start is None else None
    ended = 0.0
    seen: list[ev.Event] = []
    async for event in events:
        now = time.perf_counter()
        seen.append(event)
        if began is None and start is not None and isinstance(event, start):
            began = now
        if isinstance(event, end):
            ended = now
    return Timed(ended - (began or ended), seen)


async def one_reply_s(llm: ChatModel, messages: list[Message], purpose: str) -> float:
    """Return the seconds from asking to the last text piece of one reply."""
    started = time.perf_counter()
    async for _ in text_deltas(llm, messages, None, purpose):
        pass
    return time.perf_counter() - started


async def one_speech_s(llm: ChatModel, expert: Expert) -> float:
    """Time one board speech alone (the baseline of the opening round)."""
    prompt = [
        {
            "role": "system",
            "content": f"You are {expert.name}, {expert.persona} You sit on a private advisory board.",
        },
        {"role": "user", "content": f"Topic: {TOPIC}\n\nRound 1 of 1. {expert.name}, your turn."},
    ]
    return await one_reply_s(llm, prompt, "board.speech")


async def critical_path_s(llm: ChatModel, members: list[Expert]) -> float:
    """Time the plan's longest chain alone: one phase reply, then the phase that needs it."""
    total = 0.0
    for member, phase in ((members[0], "Part 1"), (members[-1], "Put it together")):
        prompt = [
            {
                "role": "system",
                "content": f"You are {member.name}, {member.persona} You are a member of a team.",
            },
            {"role": "user", "content": f"Task: {TASK}\n\nYour phase: {phase}\nGoal: {phase}"},
        ]
        total += await one_reply_s(llm, prompt, "team.phase")
    return total


async def run_board(llm: ChatModel, experts: list[Expert], moderator: Expert) -> Timed:
    """Hold a board of one round; time from the start of the run to the last (opening) speech."""
    board = BoardOrchestrator(
        llm=llm, experts=experts, moderator=moderator, topic=TOPIC, max_rounds=1,
        interaction=Interaction(), team_id="bench-board",
    )  # fmt: skip
    return await _timed_events(board.run(), None, ev.ExpertSpeech)


async def run_team(llm: ChatModel, members: list[Expert]) -> Timed:
    """Run a team task; time from the first phase_started to the last phase_completed."""
    team = TeamOrchestrator(
        llm=llm, lead=members[-1], members=members, task=TASK, interaction=Interaction(),
        checkpoints=MemoryCheckpointStore(), run_id="bench-team",
    )  # fmt: skip
    return await _timed_events(team.run(), ev.PhaseStarted, ev.PhaseCompleted)


@dataclass
class Sample:
    """One repeat: the board and its baseline, the team and its baseline, with the engine's events."""

    one_speech_s: float
    board: Timed
    critical_path_s: float
    team: Timed

    @property
    def board_ratio(self) -> float:
        """Return the opening round over one speech."""
        return self.board.seconds / self.one_speech_s

    @property
    def team_ratio(self) -> float:
        """Return the phase execution over the critical path."""
        return self.team.seconds / self.critical_path_s


async def measure(experts: int, pace: Pace, repeat: int) -> list[Sample]:
    """Measure the board and the team ``repeat`` times, each beside its baseline; ``experts`` must be >= 2."""
    if experts < 2:
        raise ValueError("a team with independent phases needs at least 2 experts")
    board_experts, moderator = make_experts(experts)
    llm = PacedDemoModel(pace, independent_plan(board_experts))
    samples: list[Sample] = []
    for _ in range(repeat):
        speech_s = await one_speech_s(llm, board_experts[0])
        board = await run_board(llm, board_experts, moderator)
        path_s = await critical_path_s(llm, board_experts)
        team = await run_team(llm, board_experts)
        samples.append(Sample(speech_s, board, path_s, team))
    return samples


def board_team_rows(samples: list[Sample], experts: int) -> list[Row]:
    """Return the table rows: median times in ms, each beside its baseline."""

    def median_ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    return [
        Row(
            f"board: opening round of {experts} (ms)",
            median_ms([s.board.seconds for s in samples]),
            median_ms([s.one_speech_s for s in samples]),
        ),
        Row(
            f"team: {experts - 1} phases side by side + 1 (ms)",
            median_ms([s.team.seconds for s in samples]),
            median_ms([s.critical_path_s for s in samples]),
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the board and team benchmark and print its table."""
    parser = argparse.ArgumentParser(
        description="A board's opening round and a team's phases against their ideal."
    )
    parser.add_argument("--experts", type=int, default=4, help="board experts, and team members")
    parser.add_argument("--tokens", type=int, default=200, help="tokens in a speech or a phase reply")
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--ttft", type=float, default=0.2, help="the model's seconds to the first token")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    pace = Pace(ttft_s=args.ttft, rate=args.rate, tokens=args.tokens)
    samples = asyncio.run(measure(args.experts, pace, args.repeat))
    print(
        f"paced in-process model: {pace.tokens} tokens at {pace.rate:g}/s after {pace.ttft_s:g} s "
        f"(one reply ideally {pace.ideal_s:.2f} s); median of {args.repeat}"
    )
    print(
        "\n"
        + format_table("board and team wall time", board_team_rows(samples, args.experts), baseline="ideal")
    )
    board_ratios = ", ".join(f"{s.board_ratio:.3f}x" for s in samples)
    team_ratios = ", ".join(f"{s.team_ratio:.3f}x" for s in samples)
    print(f"\nboard opening round / one speech, each repeat: {board_ratios} (target <= {BOARD_TARGET}x)")
    print(f"team phases / critical path, each repeat: {team_ratios} (target <= {TEAM_TARGET}x)")
    print("board: ideal = one speech alone; team: ideal = the 2-phase chain alone, one reply after the other")


if __name__ == "__main__":
    main()
