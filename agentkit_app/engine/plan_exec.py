"""Plan-execute: the ReAct loop under a phase policy that says which tools each phase may call.

The model moves through the phases in order by calling ``advance_phase``; a reply without
tool calls before the last phase moves it on too, so a model that forgets the tool still
gets through. A call to a tool the current phase forbids is refused and the model is told
which tools it may use, so it can recover.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from agentkit_app.engine import events as ev
from agentkit_app.engine.llm.base import Message, ToolCall
from agentkit_app.engine.react import TurnSetup, run_react
from agentkit_app.engine.tools import Tool, ToolRegistry

ADVANCE_PHASE = "advance_phase"
ALL_TOOLS = "*"
ADVANCE_TOOL = Tool(
    name=ADVANCE_PHASE,
    description="Finish the current phase and move on to the next one. Call it when this phase's work is done.",
    parameters={"type": "object", "properties": {}},
)
_PHASE_KEYS = {"name", "tools", "description"}


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase: its name, the tools it may call (``*`` for all of the agent's) and what it is for."""

    name: str
    tools: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class PhasePolicy:
    """The phases of a plan-execute turn, in order."""

    phases: tuple[Phase, ...]

    @property
    def names(self) -> list[str]:
        """Return the phase names in order."""
        return [p.name for p in self.phases]


DEFAULT_POLICY = PhasePolicy(
    (
        Phase("plan", (), "Write a short plan of how you will answer. Call no tool except advance_phase."),
        Phase("execute", (ALL_TOOLS,), "Carry out the plan, calling the tools you need."),
        Phase(
            "verify", ("calculator", "current_time", "read_file"), "Check the results; only read-only tools."
        ),
        Phase("answer", (), "Write the final answer for the user. No tools."),
    )
)


class PhasePolicyError(ValueError):
    """The configured phase policy is unusable; the message starts with ``phase policy error: ``."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"phase policy error: {problem}")


def parse_phase_policy(raw: Any, known_tools: Iterable[str]) -> PhasePolicy:
    """Return the policy a deployment configured, or the default one when ``raw`` is None or blank.

    Args:
        raw: A list of ``{name, tools, description?}`` mappings, its JSON or YAML text, or None.
        known_tools: The names of every tool there is; ``*`` (all of the agent's tools) is always allowed.

    Raises:
        PhasePolicyError: The policy is not a non-empty list of phases with unique names and known tools.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_POLICY
    if isinstance(raw, str):
        try:
            raw = yaml.safe_load(raw)  # YAML reads JSON too
        except yaml.YAMLError as exc:
            raise PhasePolicyError(f"not valid JSON or YAML ({type(exc).__name__})") from None
    if not isinstance(raw, list) or not raw:
        raise PhasePolicyError("it must be a non-empty list of phases")
    known = {*known_tools, ALL_TOOLS, ADVANCE_PHASE}
    phases: list[Phase] = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise PhasePolicyError(f"phase {number} is not a mapping of name and tools")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PhasePolicyError(f"phase {number} has no name")
        name = name.strip()
        if extra := sorted(set(item) - _PHASE_KEYS):
            raise PhasePolicyError(f"phase {name!r} has unknown keys: {', '.join(map(str, extra))}")
        if name in (p.name for p in phases):
            raise PhasePolicyError(f"duplicate phase name {name!r}")
        tools = item.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise PhasePolicyError(f"the tools of phase {name!r} must be a list of tool names")
        if unknown := [t for t in tools if t not in known]:
            raise PhasePolicyError(f"unknown tool {unknown[0]!r} in phase {name!r}")
        description = item.get("description") or ""
        phases.append(Phase(name, tuple(t for t in tools if t != ADVANCE_PHASE), str(description)))
    return PhasePolicy(tuple(phases))


class PhaseGate:
    """Keeps a turn to its current phase: the prompt, the tools offered, and refusals."""

    def __init__(self, policy: PhasePolicy, tools: ToolRegistry, base_prompt: str) -> None:
        self.policy = policy
        self.tools = tools
        self.base_prompt = base_prompt
        self.index = 0
        self._ids = itertools.count(1)

    @property
    def phase(self) -> Phase:
        """Return the current phase."""
        return self.policy.phases[self.index]

    @property
    def is_last(self) -> bool:
        """Return whether the current phase is the last one."""
        return self.index == len(self.policy.phases) - 1

    def allowed(self) -> list[str]:
        """Return the tools the current phase may call, ``advance_phase`` included unless it is the last."""
        wanted = self.phase.tools
        names = [n for n in self.tools.names() if ALL_TOOLS in wanted or n in wanted]
        return names if self.is_last else [*names, ADVANCE_PHASE]

    def prompt(self) -> str:
        """Return the system prompt: the agent's, then the phases and the current one."""
        lines = [
            "You work in phases, in this order: " + " -> ".join(self.policy.names) + ".",
            *(f"- {p.name}: {p.description}" for p in self.policy.phases if p.description),
            f"Current phase: {self.phase.name}",
            self._tools_note(),
        ]
        return "\n\n".join(part for part in (self.base_prompt.strip(), "\n".join(lines)) if part)

    def offer(self, messages: list[Message]) -> list[dict[str, Any]] | None:
        """Put the current phase in the system prompt; return the schemas of the tools it may call."""
        system = {"role": "system", "content": self.prompt()}
        if messages and messages[0].get("role") == "system":
            messages[0] = system
        else:
            messages.insert(0, system)
        allowed = self.allowed()
        schemas = [t.schema() for n in allowed if (t := self.tools.get(n)) is not None]
        if ADVANCE_PHASE in allowed:
            schemas.append(ADVANCE_TOOL.schema())
        return schemas or None

    def screen(self, call: ToolCall) -> tuple[list[ev.Event], str] | None:
        """Advance on ``advance_phase``, refuse a tool the phase forbids, let the rest run."""
        allowed = self.allowed()
        if call.name == ADVANCE_PHASE and ADVANCE_PHASE in allowed:
            previous = self.phase.name
            self.index += 1
            changed = ev.PhaseChanged(phase=self.phase.name, previous=previous)
            return [changed], f"Now in the {self.phase.name} phase. " + self._tools_note()
        if call.name in allowed or (call.name != ADVANCE_PHASE and self.tools.get(call.name) is None):
            return None  # allowed, or no such tool at all: the ReAct loop runs it or says so
        violation = ev.PhaseViolation(phase=self.phase.name, tool=call.name, allowed=allowed)
        if call.name == ADVANCE_PHASE:
            why = f"refused: {self.phase.name} is the last phase, there is none to advance to. "
        else:
            why = f"refused: {call.name} may not be used in the {self.phase.name} phase. "
        return [violation], why + self._tools_note()

    def carry_on(self, text: str) -> ToolCall | None:
        """Treat a reply without tool calls before the last phase as that phase's result, and advance."""
        if self.is_last:
            return None
        return ToolCall(f"phase_advance_{next(self._ids)}", ADVANCE_PHASE, "{}")

    def _tools_note(self) -> str:
        allowed = self.allowed()
        note = "Tools you may use now: " + (", ".join(allowed) or "none") + "."
        if self.is_last:
            return note + " This is the last phase: give the user your final answer."
        return note + f" Call {ADVANCE_PHASE} when this phase's work is done; there is no going back."


async def run_plan_exec(
    setup: TurnSetup, messages: list[Message], policy: PhasePolicy
) -> AsyncIterator[ev.Event]:
    """Yield the events of one plan-execute turn: ``phase_changed`` first, ending with ``final_answer``.

    ``messages`` is the conversation in LLM format (system prompt first); its system prompt is
    rewritten as the phases change, and it is extended in place like :func:`run_react`'s. The turn
    takes no fallback answer (``setup.fallback`` is turned off): a failing main model fails the turn.
    """
    base_prompt = (
        str(messages[0].get("content") or "") if messages and messages[0].get("role") == "system" else ""
    )
    gate = PhaseGate(policy, setup.tools, base_prompt)
    setup.fallback = False  # a stand-in model or an apology in place of a phase would derail the plan
    yield ev.PhaseChanged(phase=gate.phase.name, previous=None)
    # moving between phases costs a model call each, which should not eat the tool-step budget
    async for event in run_react(setup, messages, gate, max_steps=setup.max_steps + len(policy.phases)):
        yield event
