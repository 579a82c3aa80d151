"""Expert personas for board meetings and teams, and the registry of their templates."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from agentkit_app.engine.i18n import LocalizedError


@dataclass(frozen=True, slots=True)
class Expert:
    """A persona: how it looks (avatar, colour) and how it thinks (persona prompt)."""

    name: str
    avatar: str
    color: str
    persona: str
    role: str = "expert"
    is_moderator: bool = False

    def public(self) -> dict[str, Any]:
        """Return the expert as the JSON the events and the UI carry."""
        return asdict(self)


class UnknownExpertsError(LocalizedError):
    """Some requested expert names are not in the registry."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("unknown_experts", names=", ".join(names))
        self.names = names


class ExpertRegistry:
    """All experts by name, and the named templates (``board``, ``dev_team`` ...) that group them."""

    def __init__(self, experts: list[Expert], templates: dict[str, list[str]]) -> None:
        self._experts = {e.name.casefold(): e for e in experts}
        self.templates = templates

    def names(self) -> list[str]:
        """Return every expert name, in registry order."""
        return [e.name for e in self._experts.values()]

    def template(self, name: str) -> list[Expert]:
        """Return the experts of a template, in template order."""
        return self.resolve(self.templates[name])

    def resolve(self, names: list[str]) -> list[Expert]:
        """Return the experts named (case-insensitive); raise naming every unknown one."""
        unknown = [n for n in names if n.casefold() not in self._experts]
        if unknown:
            raise UnknownExpertsError(unknown)
        return [self._experts[n.casefold()] for n in names]

    def moderator(self) -> Expert | None:
        """Return the first expert marked as moderator, if any."""
        return next((e for e in self._experts.values() if e.is_moderator), None)
