"""The private board (私董会): expert personas debate a topic over rounds, led by a moderator.

``parse_board_command`` reads ``@board[:A,B] [rounds=N] TOPIC``; :class:`BoardOrchestrator`
runs the meeting and yields its typed events. The opening statements of round 1 are written
at the same time (none of them can read another); from round 2 every expert speaks having read
the discussion so far. The moderator sums each round up and may end early on consensus, and
user messages posted into the :class:`Interaction` are heard before the next speaker (during
the opening round: by the round's summary). The closing reply is read by
:mod:`agentkit_app.engine.board_conclusion` (``parse_conclusion``, ``conclusion_markdown``, also
importable from here).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field

from agentkit_app.engine import events as ev
from agentkit_app.engine.board_conclusion import conclusion_markdown, parse_conclusion
from agentkit_app.engine.experts import Expert, UnknownExpertsError
from agentkit_app.engine.i18n import LocalizedError
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import ChatModel, Message, text_deltas
from agentkit_app.engine.parsing import lang_rule, take_names

__all__ = [
    "MAX_ROUNDS",
    "BoardCommand",
    "BoardCommandError",
    "BoardOrchestrator",
    "conclusion_markdown",
    "is_board_command",
    "parse_board_command",
    "parse_conclusion",
]

MAX_ROUNDS = 10
_COMMAND = re.compile(r"^\s*@board(?=$|[\s:：])", re.IGNORECASE)
_ROUNDS = re.compile(r"(?<!\S)rounds\s*[=＝]\s*(\S+)", re.IGNORECASE)
# the moderator's verdict line; models like to dress it up as "**CONSENSUS: yes**" or end it with a period
_CONSENSUS = re.compile(
    r"^[\s*_>#-]*CONSENSUS[\s*_]*[:：][\s*_]*(yes|no|是|否)[\s*_.。!！]*$", re.IGNORECASE | re.MULTILINE
)


class BoardCommandError(LocalizedError):
    """The ``@board`` command cannot start a meeting (no topic, bad rounds)."""


@dataclass(frozen=True, slots=True)
class BoardCommand:
    """What ``@board`` asked for: the topic, the experts named (empty = template) and the rounds."""

    topic: str
    expert_names: list[str] = field(default_factory=list)
    rounds: int = 5


def is_board_command(text: str) -> bool:
    """Return whether a message starts a board meeting."""
    return _COMMAND.match(text) is not None


def parse_board_command(text: str, default_rounds: int = 5, known: list[str] | None = None) -> BoardCommand:
    """Parse ``@board[:Expert A,Expert B] [rounds=N] TOPIC``; unknown names raise UnknownExpertsError.

    Names may be separated by ``,``, ``，`` or ``、`` and the colon may be full-width. ``rounds``
    must be 1..MAX_ROUNDS; without it the deployment's default (kept within that range) applies.
    """
    match = _COMMAND.match(text)
    if match is None:
        raise BoardCommandError("not_board_command")
    body = text[match.end() :]
    names: list[str] = []
    if body[:1] in (":", "："):
        names, body = take_names(body[1:], known or [])
    rounds = min(max(default_rounds or 5, 1), MAX_ROUNDS)
    found = _ROUNDS.search(body)
    if found:
        try:
            rounds = int(found.group(1))
        except ValueError:
            raise BoardCommandError("board_rounds_number", value=found.group(1)) from None
        if not 1 <= rounds <= MAX_ROUNDS:
            raise BoardCommandError("board_rounds_range", most=MAX_ROUNDS, rounds=rounds)
        body = body[: found.start()] + body[found.end() :]
    topic = " ".join(body.split())
    if not topic:
        raise BoardCommandError("board_no_topic")
    if known is not None:
        unknown = [n for n in names if n.casefold() not in {k.casefold() for k in known}]
        if unknown:
            raise UnknownExpertsError(unknown)
    return BoardCommand(topic=topic, expert_names=names, rounds=rounds)


def _transcript(topic: str, lines: list[tuple[str, int, str]]) -> str:
    body = "\n\n".join(f"[Round {r}] {who}: {text}" for who, r, text in lines) or "(nobody has spoken yet)"
    return f"Topic: {topic}\n\nDiscussion so far:\n{body}"


class BoardOrchestrator:
    """Runs one board meeting and yields its events; model failures raise LLMError."""

    def __init__(
        self,
        *,
        llm: ChatModel,
        experts: list[Expert],
        moderator: Expert,
        topic: str,
        max_rounds: int,
        interaction: Interaction,
        team_id: str,
        model: str | None = None,
        language: str = "en",
    ) -> None:
        self.llm = llm
        self.experts = experts
        self.moderator = moderator
        self.topic = topic
        self.max_rounds = max_rounds
        self.interaction = interaction
        self.team_id = team_id
        self.model = model
        self.language = language
        self.lines: list[tuple[str, int, str]] = []

    def _interventions(self, round_no: int) -> list[ev.Event]:
        events: list[ev.Event] = []
        for text in self.interaction.drain():
            self.lines.append(("User (the person who convened the board)", round_no, text))
            events.append(ev.UserIntervention(content=text))
        return events

    def _speech_prompt(self, expert: Expert, round_no: int) -> list[Message]:
        system = (
            f"You are {expert.name}, {expert.persona} You sit on a private advisory board. "
            f"Give your own view in a few sentences, reply to what others said, and respond to the user "
            f"if they stepped in. {lang_rule(self.language)}"
        )
        ask = f"Round {round_no} of {self.max_rounds}. {expert.name}, your turn."
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": f"{_transcript(self.topic, self.lines)}\n\n{ask}"},
        ]

    def _summary_prompt(self, round_no: int) -> list[Message]:
        system = (
            f"You are {self.moderator.name}, {self.moderator.persona} Sum up round {round_no} in a few sentences: "
            "where the experts agree, where they differ, what to discuss next. On the last line write "
            f"'CONSENSUS: yes' if the board has reached a consensus, else 'CONSENSUS: no'. {lang_rule(self.language)}"
        )
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": _transcript(self.topic, self.lines)},
        ]

    def _conclusion_prompt(self) -> list[Message]:
        system = (
            f"You are {self.moderator.name}, closing the board meeting. Reply with one JSON object only: "
            '{"summary": str, "decision_advice": str, "consensus_points": [str], "dissent_points": [str]}. '
            f"{lang_rule(self.language)}"
        )
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": _transcript(self.topic, self.lines)},
        ]

    def _speech(self, expert: Expert, round_no: int, parts: list[str]) -> ev.ExpertSpeech:
        """Record a finished speech in the transcript and return its event."""
        content = "".join(parts).strip() or ("（未发言）" if self.language == "zh" else "(no comment)")
        self.lines.append((expert.name, round_no, content))
        return ev.ExpertSpeech(
            content=content,
            expert_name=expert.name,
            expert_avatar=expert.avatar,
            expert_color=expert.color,
            round=round_no,
            role=expert.role,
        )

    async def _speak(self, expert: Expert, round_no: int) -> AsyncGenerator[ev.Event, None]:
        parts: list[str] = []
        async for piece in text_deltas(
            self.llm, self._speech_prompt(expert, round_no), self.model, "board.speech"
        ):
            parts.append(piece)
            yield ev.ExpertSpeechChunk(content=piece, expert_name=expert.name, round=round_no)
        yield self._speech(expert, round_no, parts)

    async def _opening_round(self) -> AsyncGenerator[ev.Event, None]:
        """Round 1: every expert writes at once, the events come out in expert order.

        Each expert's model stream runs in a task of its own and feeds one queue; the chunks of
        the expert whose turn it is are passed on at once, later experts' wait in a buffer until
        their turn. A failure is raised as soon as it arrives; leaving early (failure, cancel,
        close) cancels every task still writing.
        """
        queue: asyncio.Queue[tuple[int, str | None | Exception]] = asyncio.Queue()

        async def write(index: int, prompt: list[Message]) -> None:
            try:
                async for piece in text_deltas(self.llm, prompt, self.model, "board.speech"):
                    queue.put_nowait((index, piece))
            except Exception as exc:  # handed to the meeting, which raises it in its own task
                queue.put_nowait((index, exc))
            else:
                queue.put_nowait((index, None))

        # the prompts are fixed before anyone speaks: no opening statement reads another
        prompts = [self._speech_prompt(expert, 1) for expert in self.experts]
        tasks = [
            asyncio.create_task(write(i, prompt), name=f"board-opening-{expert.name}")
            for i, (expert, prompt) in enumerate(zip(self.experts, prompts, strict=True))
        ]
        buffered: list[list[str]] = [[] for _ in self.experts]
        finished = [False] * len(self.experts)
        try:
            turn = 0
            while turn < len(self.experts):
                expert = self.experts[turn]
                parts: list[str] = []
                while True:
                    while buffered[turn]:
                        piece = buffered[turn].pop(0)
                        parts.append(piece)
                        yield ev.ExpertSpeechChunk(content=piece, expert_name=expert.name, round=1)
                    if finished[turn]:
                        break
                    index, item = await queue.get()
                    if isinstance(item, Exception):
                        raise item
                    if item is None:
                        finished[index] = True
                    else:
                        buffered[index].append(item)
                yield self._speech(expert, 1, parts)
                turn += 1
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _summarise(self, round_no: int) -> ev.RoundSummary:
        text = "".join(
            [
                p
                async for p in text_deltas(
                    self.llm, self._summary_prompt(round_no), self.model, "board.summary"
                )
            ]
        )
        verdict = _CONSENSUS.search(text)
        consensus = bool(verdict and verdict.group(1).casefold() in ("yes", "是"))
        summary = _CONSENSUS.sub("", text).strip()
        self.lines.append((self.moderator.name, round_no, summary))
        return ev.RoundSummary(
            content=summary,
            moderator_name=self.moderator.name,
            moderator_avatar=self.moderator.avatar,
            moderator_color=self.moderator.color,
            round=round_no,
            consensus_reached=consensus,
        )

    async def run(self) -> AsyncGenerator[ev.Event, None]:
        """Hold the meeting: start, rounds of speeches and summaries, conclusion."""
        yield ev.BoardStarted(
            team_id=self.team_id,
            topic=self.topic,
            experts=[e.public() for e in [*self.experts, self.moderator]],
            max_rounds=self.max_rounds,
        )
        rounds_held = 0
        for round_no in range(1, self.max_rounds + 1):
            rounds_held = round_no
            if round_no == 1:
                for event in self._interventions(round_no):
                    yield event
                # closed at once when the meeting is left mid-round, so no writer outlives it
                async with aclosing(self._opening_round()) as opening:
                    async for event in opening:
                        yield event
            else:
                for expert in self.experts:
                    for event in self._interventions(round_no):
                        yield event
                    async for event in self._speak(expert, round_no):
                        yield event
            for event in self._interventions(round_no):
                yield event
            summary = await self._summarise(round_no)
            yield summary
            if summary.consensus_reached:
                break
        raw = "".join(
            [
                p
                async for p in text_deltas(
                    self.llm, self._conclusion_prompt(), self.model, "board.conclusion"
                )
            ]
        )
        yield parse_conclusion(raw, rounds_held)
