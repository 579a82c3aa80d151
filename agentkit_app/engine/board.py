"""The private board (私董会): expert personas debate a topic over rounds, led by a moderator.

``parse_board_command`` reads ``@board[:A,B] [rounds=N] TOPIC``; :class:`BoardOrchestrator`
runs the meeting and yields its typed events. Each round every expert speaks having read the
discussion so far, the moderator sums the round up and may end early on consensus, and user
messages posted into the :class:`Interaction` are heard before the next speaker.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from agentkit_app.engine import events as ev
from agentkit_app.engine.experts import Expert, UnknownExpertsError
from agentkit_app.engine.i18n import t
from agentkit_app.engine.interaction import Interaction
from agentkit_app.engine.llm.base import ChatModel, Message, text_deltas
from agentkit_app.engine.parsing import json_object, lang_rule, take_names

MAX_ROUNDS = 20
_COMMAND = re.compile(r"^\s*@board(?=$|[\s:])", re.IGNORECASE)
_ROUNDS = re.compile(r"(?<!\S)rounds\s*=\s*(\S+)", re.IGNORECASE)
_CONSENSUS = re.compile(r"^\s*CONSENSUS\s*[:：]\s*(yes|no|是|否)\s*$", re.IGNORECASE | re.MULTILINE)


class BoardCommandError(ValueError):
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
    """Parse ``@board[:Expert A,Expert B] [rounds=N] TOPIC``; unknown names raise UnknownExpertsError."""
    match = _COMMAND.match(text)
    if match is None:
        raise BoardCommandError("not a board command")
    body = text[match.end() :]
    names: list[str] = []
    if body.startswith(":"):
        names, body = take_names(body[1:], known or [])
    rounds = default_rounds or 5
    found = _ROUNDS.search(body)
    if found:
        try:
            rounds = int(found.group(1))
        except ValueError:
            raise BoardCommandError(f"rounds must be a whole number, not {found.group(1)!r}") from None
        if not 1 <= rounds <= MAX_ROUNDS:
            raise BoardCommandError(f"rounds must be between 1 and {MAX_ROUNDS}")
        body = body[: found.start()] + body[found.end() :]
    topic = " ".join(body.split())
    if not topic:
        raise BoardCommandError("a board meeting needs a topic, e.g. @board how will AI change retail")
    if known is not None:
        unknown = [n for n in names if n.casefold() not in {k.casefold() for k in known}]
        if unknown:
            raise UnknownExpertsError(unknown)
    return BoardCommand(topic=topic, expert_names=names, rounds=rounds)


def _transcript(topic: str, lines: list[tuple[str, int, str]]) -> str:
    body = "\n\n".join(f"[Round {r}] {who}: {text}" for who, r, text in lines) or "(nobody has spoken yet)"
    return f"Topic: {topic}\n\nDiscussion so far:\n{body}"


def _points(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []


def conclusion_markdown(concluded: ev.BoardConcluded, language: str = "en") -> str:
    """Return the board's final answer: summary, advice, consensus, dissent and the rounds held."""
    zh = language == "zh"
    none = "（无）" if zh else "(none)"

    def bullets(points: list[str]) -> str:
        return "\n".join(f"- {p}" for p in points) or none

    rounds = f"共进行 {concluded.total_rounds} 轮讨论" if zh else f"{concluded.total_rounds} round(s) of discussion"
    return (
        f"## {'讨论总结' if zh else 'Discussion summary'}\n\n{concluded.summary or none}\n\n"
        f"## {t('decision_advice', language)}\n\n{concluded.decision_advice or none}\n\n"
        f"## {t('consensus', language)}\n\n{bullets(concluded.consensus_points)}\n\n"
        f"## {t('dissent', language)}\n\n{bullets(concluded.dissent_points)}\n\n"
        f"*{rounds}*"
    )


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
        return [{"role": "system", "content": system}, {"role": "user", "content": f"{_transcript(self.topic, self.lines)}\n\n{ask}"}]

    def _summary_prompt(self, round_no: int) -> list[Message]:
        system = (
            f"You are {self.moderator.name}, {self.moderator.persona} Sum up round {round_no} in a few sentences: "
            "where the experts agree, where they differ, what to discuss next. On the last line write "
            f"'CONSENSUS: yes' if the board has reached a consensus, else 'CONSENSUS: no'. {lang_rule(self.language)}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": _transcript(self.topic, self.lines)}]

    def _conclusion_prompt(self) -> list[Message]:
        system = (
            f"You are {self.moderator.name}, closing the board meeting. Reply with one JSON object only: "
            '{"summary": str, "decision_advice": str, "consensus_points": [str], "dissent_points": [str]}. '
            f"{lang_rule(self.language)}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": _transcript(self.topic, self.lines)}]

    async def _speak(self, expert: Expert, round_no: int) -> AsyncIterator[ev.Event]:
        parts: list[str] = []
        async for piece in text_deltas(self.llm, self._speech_prompt(expert, round_no), self.model, "board.speech"):
            parts.append(piece)
            yield ev.ExpertSpeechChunk(content=piece, expert_name=expert.name, round=round_no)
        content = "".join(parts).strip() or ("（未发言）" if self.language == "zh" else "(no comment)")
        self.lines.append((expert.name, round_no, content))
        yield ev.ExpertSpeech(
            content=content,
            expert_name=expert.name,
            expert_avatar=expert.avatar,
            expert_color=expert.color,
            round=round_no,
            role=expert.role,
        )

    async def run(self) -> AsyncIterator[ev.Event]:
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
            for expert in self.experts:
                for event in self._interventions(round_no):
                    yield event
                async for event in self._speak(expert, round_no):
                    yield event
            for event in self._interventions(round_no):
                yield event
            text = "".join(
                [p async for p in text_deltas(self.llm, self._summary_prompt(round_no), self.model, "board.summary")]
            )
            verdict = _CONSENSUS.search(text)
            consensus = bool(verdict and verdict.group(1).casefold() in ("yes", "是"))
            summary = _CONSENSUS.sub("", text).strip()
            self.lines.append((self.moderator.name, round_no, summary))
            yield ev.RoundSummary(
                content=summary,
                moderator_name=self.moderator.name,
                moderator_avatar=self.moderator.avatar,
                moderator_color=self.moderator.color,
                round=round_no,
                consensus_reached=consensus,
            )
            if consensus:
                break
        raw = "".join([p async for p in text_deltas(self.llm, self._conclusion_prompt(), self.model, "board.conclusion")])
        data = json_object(raw) or {}
        yield ev.BoardConcluded(
            summary=str(data.get("summary") or ("" if data else raw.strip())),
            decision_advice=str(data.get("decision_advice") or ""),
            total_rounds=rounds_held,
            consensus_points=_points(data.get("consensus_points")),
            dissent_points=_points(data.get("dissent_points")),
        )
