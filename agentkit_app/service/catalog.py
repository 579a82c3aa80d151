"""The shipped (or deployment's) agents, experts and skills, read from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from agentkit_app.engine.experts import Expert, ExpertRegistry
from agentkit_app.engine.routing import AgentSpec, Skill

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "defaults" / "agents.yaml"


@dataclass(frozen=True)
class Catalog:
    """Everything a deployment configures about who can answer."""

    agents: dict[str, AgentSpec]
    experts: ExpertRegistry
    skills: list[Skill]

    def agent(self, name: str) -> AgentSpec | None:
        """Return the agent of that name, or None."""
        return self.agents.get(name)


def load_catalog(path: Path = DEFAULTS_FILE) -> Catalog:
    """Return the catalog read from a YAML file; raise ValueError naming what is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        agents = [AgentSpec(**a) for a in data["agents"]]
        experts = [Expert(**e) for e in data.get("experts", [])]
        skills = [Skill(**s) for s in data.get("skills", [])]
        registry = ExpertRegistry(experts, {k: list(v) for k, v in data.get("templates", {}).items()})
        for members in registry.templates.values():
            registry.resolve(members)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad defaults file {path.name}: {exc}") from exc
    if not agents:
        raise ValueError(f"bad defaults file {path.name}: no agent")
    return Catalog({a.name: a for a in agents}, registry, skills)
