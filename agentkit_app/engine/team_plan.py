"""The ``@team`` command and the lead's plan: parsing the command, checking a plan can run.

``parse_team_command`` reads ``@team[:Lead,Member,...] TASK``. :func:`check_plan` finds what keeps
a plan from running (an unknown expert, a dependency on a phase that does not exist, a cycle, a
reused id); :func:`fallback_plan` is the plan used when the lead gives none that can be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agentkit_app.engine.experts import Expert, UnknownExpertsError
from agentkit_app.engine.i18n import LocalizedError
from agentkit_app.engine.parsing import take_names

_COMMAND = re.compile(r"^\s*@team(?=$|[\s:])", re.IGNORECASE)
MAX_PHASES = 8
NO_PLAN = 'the reply holds no plan (one JSON object with a non-empty "phases" list)'


class TeamCommandError(LocalizedError):
    """The ``@team`` command cannot start a team (no task)."""


@dataclass(frozen=True, slots=True)
class TeamCommand:
    """What ``@team`` asked for: the task and the experts named (first = lead; empty = template)."""

    task: str
    expert_names: list[str] = field(default_factory=list)


def is_team_command(text: str) -> bool:
    """Return whether a message starts a team run."""
    return _COMMAND.match(text) is not None


def parse_team_command(text: str, known: list[str] | None = None) -> TeamCommand:
    """Parse ``@team[:Lead,Member] TASK``; unknown names raise UnknownExpertsError."""
    match = _COMMAND.match(text)
    if match is None:
        raise TeamCommandError("not_team_command")
    body = text[match.end() :]
    names: list[str] = []
    if body.startswith(":"):
        names, body = take_names(body[1:], known or [])
    task = body.strip()
    if not task:
        raise TeamCommandError("team_no_task")
    if known is not None:
        unknown = [n for n in names if n.casefold() not in {k.casefold() for k in known}]
        if unknown:
            raise UnknownExpertsError(unknown)
    return TeamCommand(task=task, expert_names=names)


def _find_cycle(phases: list[dict[str, Any]]) -> list[str]:
    """Return the ids along one dependency cycle (first id repeated at the end), or [] if none."""
    needs = {p["id"]: list(p["depends_on"]) for p in phases}
    finished: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str]:
        path.append(node)
        for dep in needs.get(node, []):
            if dep in path:
                return path[path.index(dep) :] + [dep]
            if dep in needs and dep not in finished:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        finished.add(node)
        return []

    for node in needs:
        if node not in finished:
            found = visit(node)
            if found:
                return found
    return []


def check_plan(
    raw: object, experts: list[str], *, finished: set[str] | None = None, taken: set[str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return the phases of the lead's JSON plan and the problems that keep it from running.

    Args:
        raw: The JSON object the lead replied with (or None when the reply held none).
        experts: The names a phase may be assigned to.
        finished: Ids of finished phases the new phases may depend on (when replanning).
        taken: Ids already used in the run, which the new phases must not reuse.

    Returns:
        ``(phases, problems)``. No phases means the reply held no readable plan (``problems``
        then says so); phases with problems are a readable plan that cannot run as it is.
    """
    finished, taken = finished or set(), taken or set()
    items = raw.get("phases") if isinstance(raw, dict) else None
    items = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    if not items:
        return [], [NO_PLAN]
    by_name = {name.casefold(): name for name in experts}
    phases: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        phase_id = str(item.get("id") or f"p{index + 1}").strip()
        if phase_id in seen or phase_id in taken:
            problems.append(f"the id '{phase_id}' is used by more than one phase")
        seen.add(phase_id)
        asked = str(item.get("expert") or "").strip()
        expert = by_name.get(asked.casefold())
        if expert is None:
            problems.append(
                f"phase '{phase_id}' is assigned to an unknown expert '{asked}' (the members are: {', '.join(experts)})"
            )
        depends = item.get("depends_on") or []
        depends = [depends] if isinstance(depends, str) else depends if isinstance(depends, list) else []
        name = str(item.get("name") or item.get("goal") or phase_id).strip()[:120]
        phases.append(
            {
                "id": phase_id,
                "name": name,
                "expert": expert or asked,
                "depends_on": [str(d).strip() for d in depends],
                "goal": str(item.get("goal") or name).strip()[:1000],
                "status": "pending",
            }
        )
    if len(phases) > MAX_PHASES:
        problems.append(f"the plan has {len(phases)} phases; at most {MAX_PHASES} are allowed")
    for phase in phases:
        for dep in phase["depends_on"]:
            if dep not in seen and dep not in finished:
                problems.append(f"phase '{phase['id']}' depends on '{dep}', which is not a phase of the plan")
    cycle = _find_cycle(phases)
    if cycle:
        problems.append("the dependencies form a cycle: " + " -> ".join(cycle) + " (each needs the next)")
    return phases, problems


def fallback_plan(members: list[Expert], language: str) -> list[dict[str, Any]]:
    """One phase per member, in order, each building on the previous: used when no plan is readable."""
    phases: list[dict[str, Any]] = []
    for index, member in enumerate(members):
        name = f"{member.name} 的工作" if language == "zh" else f"{member.name}'s part"
        depends = [phases[-1]["id"]] if phases else []
        phases.append({"id": f"p{index + 1}", "name": name, "expert": member.name, "depends_on": depends,
                       "goal": name, "status": "pending"})  # fmt: skip
    return phases
