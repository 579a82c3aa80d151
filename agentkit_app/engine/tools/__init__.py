"""Tools the agent may call: the registry and its types."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentkit_app.engine.tools.sandbox import ShellSandbox, session_scratch


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Where tools may read and write, and their limits."""

    upload_dir: Path
    scratch_dir: Path
    shell_timeout_s: float = 20.0
    may_read: Callable[[str], bool] | None = None  # which uploads this turn may open (None: all)
    # where the shell runs commands; None: nowhere, so the shell is not offered
    sandbox: ShellSandbox | None = field(default_factory=ShellSandbox)

    def for_session(self, session_id: str) -> ToolContext:
        """Return this context with the session's own scratch directory (no shell for an id that is not hex)."""
        scratch = session_scratch(self.scratch_dir, session_id)
        if scratch is None:
            return replace(self, sandbox=None)
        return replace(self, scratch_dir=scratch)


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
    sandboxed: bool = False  # runs in the context's sandbox: usable only where one can start

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

    def usable(self, context: ToolContext, *, sandboxed: bool = True) -> ToolRegistry:
        """Return the tools that can run with ``context``.

        Args:
            context: the tools' context; sandboxed tools need its sandbox, and one that can start.
            sandboxed: False leaves the sandboxed tools out anyway (a user who may not run commands).
        """
        sandbox = context.sandbox
        allowed = sandboxed and sandbox is not None and sandbox.available()
        return ToolRegistry([t for t in self._tools.values() if allowed or not t.sandboxed])

    def schemas(self) -> list[dict[str, Any]] | None:
        """Return the ``tools`` list for the model, or None when there is no tool."""
        return [t.schema() for t in self._tools.values()] or None
