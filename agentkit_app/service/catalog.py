"""The agents, experts, templates and skills of a deployment: seeded from YAML, then kept in the database.

The YAML file (``defaults/agents.yaml``) fills an empty database once; from then on admins edit the
agents, experts and templates (:mod:`agentkit_app.service.catalog_admin`). Skills stay in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agentkit_app.engine.experts import Expert, ExpertRegistry
from agentkit_app.engine.routing import AgentSpec, Skill
from agentkit_app.store.catalog import (
    AgentPublic,
    CatalogSnapshot,
    ExpertPublic,
    TemplateKind,
    TemplatePublic,
)

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "defaults" / "agents.yaml"
# the template a bare ``@board`` / ``@team`` uses when it exists (else the first of its kind)
DEFAULT_TEMPLATES: dict[TemplateKind, str] = {"board": "board", "team": "dev_team"}


@dataclass(frozen=True)
class Catalog:
    """Everything a deployment configures about who can answer, at one version of the database's catalog."""

    agents: dict[str, AgentSpec]
    experts: ExpertRegistry
    skills: list[Skill]
    # what it was built from (stored as is to seed an empty database)
    snapshot: CatalogSnapshot | None = None
    # agents hidden from the picker; the sessions bound to one keep it
    disabled: frozenset[str] = frozenset()
    template_kinds: dict[str, TemplateKind] = field(default_factory=dict)

    def agent(self, name: str) -> AgentSpec | None:
        """Return the agent of that name (disabled ones too), or None."""
        return self.agents.get(name)

    def choices(self) -> list[AgentSpec]:
        """Return the agents a new session may be bound to, in the admin's order."""
        return [a for a in self.agents.values() if a.name not in self.disabled]

    def default_template(self, kind: TemplateKind) -> list[str]:
        """Return the expert names of the template a bare command of ``kind`` uses (a team's lead first)."""
        named = DEFAULT_TEMPLATES[kind]
        if self.template_kinds.get(named) == kind:
            return self.experts.templates[named]
        first = next((n for n, k in self.template_kinds.items() if k == kind), None)
        return self.experts.templates[first] if first else []


def build_catalog(snapshot: CatalogSnapshot, skills: list[Skill]) -> Catalog:
    """Return the catalog of a snapshot (of the database or of the YAML file)."""
    agents = {
        a.name: AgentSpec(a.name, a.display_name, a.description, a.system_prompt, list(a.tools), a.model)
        for a in snapshot.agents
    }
    experts = [Expert(e.name, e.avatar, e.color, e.persona, e.role, e.is_moderator) for e in snapshot.experts]
    templates = {t.name: ([t.lead] if t.lead else []) + list(t.experts) for t in snapshot.templates}
    return Catalog(
        agents,
        ExpertRegistry(experts, templates),
        skills,
        snapshot,
        frozenset(a.name for a in snapshot.agents if not a.enabled),
        {t.name: t.kind for t in snapshot.templates},
    )


def _template(name: str, value: Any) -> TemplatePublic:
    """Return a template of the YAML file: ``{kind, lead?, experts}``."""
    return TemplatePublic(name=name, **value)


def read_seed(path: Path = DEFAULTS_FILE) -> tuple[CatalogSnapshot, list[Skill]]:
    """Return the catalog and the skills of a YAML file; raise ValueError naming what is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        snapshot = CatalogSnapshot(
            version=0,
            agents=[AgentPublic(**a) for a in data["agents"]],
            experts=[ExpertPublic(**e) for e in data.get("experts", [])],
            templates=[_template(n, v) for n, v in (data.get("templates") or {}).items()],
        )
        skills = [Skill(**s) for s in data.get("skills", [])]
        catalog = build_catalog(snapshot, skills)
        for members in catalog.experts.templates.values():
            catalog.experts.resolve(members)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ValueError(f"bad defaults file {path.name}: {exc}") from exc
    if not snapshot.agents:
        raise ValueError(f"bad defaults file {path.name}: no agent")
    return snapshot, skills


def load_catalog(path: Path = DEFAULTS_FILE) -> Catalog:
    """Return the catalog read from a YAML file; raise ValueError naming what is wrong."""
    return build_catalog(*read_seed(path))
