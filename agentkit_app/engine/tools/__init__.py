"""Tools the agent may call: the registry and its types."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Where tools may read and write, and their limits."""

    upload_dir: Path
    scratch_dir: Path
    shell_timeout_s: float = 20.0
    may_read: Callable[[str], bool] | None = None  # which uploads this turn may open (None: all)


Handler = Callable[[dict[str, Any], ToolContext], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Tool:
    """A callable tool: its JSON schema for the model, and whether it must ask the user first."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler | None = None
    dangerous: bool = False
    asks_human: bool = False
    describe: Callable[[dict[str, Any]], str] = field(
        default=lambda args: json.dumps(args, ensure_ascii=False)
    )

    def schema(self) -> dict[str, Any]:
        """Return the OpenAI ``tools`` entry of this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class ToolRegistry:
    """The tools one turn may call, by name."""

    def __init__(self, tools: list[Tool]) -> None:
        self._tools = {t.name: t for t in tools}

    def get(self, name: str) -> Tool | None:
        """Return the tool of that name, or None."""
        return self._tools.get(name)

    def names(self) -> list[str]:
        """Return the tool names."""
        return list(self._tools)

    def only(self, names: list[str]) -> ToolRegistry:
        """Return a registry with just the named tools (unknown names are ignored)."""
        return ToolRegistry([t for n, t in self._tools.items() if n in names])

    def schemas(self) -> list[dict[str, Any]] | None:
        """Return the ``tools`` list for the model, or None when there is no tool."""
        return [t.schema() for t in self._tools.values()] or None
