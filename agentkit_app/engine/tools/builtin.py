"""The built-in tools: calculator, current time, read an uploaded file, sandboxed shell command, ask the user."""

from __future__ import annotations

import ast
import math
import operator
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentkit_app.engine.tools import Tool, ToolContext
from agentkit_app.engine.tools.documents import UnreadableDocument, read_document

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "log": math.log,
    "sin": math.sin,
    "cos": math.cos,
}
_NAMES = {"pi": math.pi, "e": math.e}
MAX_FILE_CHARS = 20_000
MAX_OUTPUT_CHARS = 8_000


def evaluate(expression: str) -> float | int:
    """Return the value of an arithmetic expression, evaluated without ``eval``."""

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 1000:
                raise ValueError("exponent too large")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Name) and node.id in _NAMES:
            return _NAMES[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
            return _FUNCS[node.func.id](*[walk(a) for a in node.args])
        raise ValueError("unsupported expression")

    if len(expression) > 200:
        raise ValueError("expression too long")
    expression = expression.replace("×", "*").replace("÷", "/").replace("^", "**")
    return walk(ast.parse(expression, mode="eval"))


async def _calculator(args: dict[str, Any], ctx: ToolContext) -> str:
    try:
        value = evaluate(str(args.get("expression", "")))
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError, TypeError) as exc:
        return f"error: {exc or 'invalid expression'}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(round(value, 10) if isinstance(value, float) else value)


async def _current_time(args: dict[str, Any], ctx: ToolContext) -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def resolve_upload(upload_dir: Path, stored_name: str) -> Path | None:
    """Return the path of an uploaded file, or None if the name is unsafe or missing."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,200}", stored_name) or stored_name.startswith("."):
        return None
    path = (upload_dir / stored_name).resolve()
    if path.parent != upload_dir.resolve() or not path.is_file():
        return None
    return path


async def _read_file(args: dict[str, Any], ctx: ToolContext) -> str:
    name = str(args.get("stored_name") or args.get("filename") or "")
    path = resolve_upload(ctx.upload_dir, os.path.basename(name))
    if path is None or (ctx.may_read is not None and not ctx.may_read(path.name)):
        return f"error: no uploaded file named {name!r}"
    try:
        document = await read_document(path, path.name, MAX_FILE_CHARS)
    except UnreadableDocument as exc:
        return f"error: cannot read {name!r}: {exc}"
    except OSError:
        return f"error: no uploaded file named {name!r}"
    return document.for_model() or f"({name!r} holds no text)"


async def _shell(args: dict[str, Any], ctx: ToolContext) -> str:
    command = str(args.get("command", "")).strip()
    if not command:
        return "error: empty command"
    if ctx.sandbox is None or not ctx.sandbox.available():  # never run unsandboxed
        return "error: the shell is not available here"
    try:
        result = await ctx.sandbox.run(command, ctx.scratch_dir, ctx.shell_timeout_s)
    except OSError as exc:
        return f"error: the sandbox could not start: {exc.strerror or exc}"
    text = result.output.decode("utf-8", errors="replace")
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + "\n[... truncated]"
    if result.timed_out:
        return f"error: command timed out after {ctx.shell_timeout_s:g}s\n{text}".rstrip()
    if result.overflowed:
        limit = ctx.sandbox.max_output_bytes
        return f"error: the command wrote more than {limit} bytes and was stopped\n{text}".rstrip()
    return f"exit code {result.exit_code}\n{text}".rstrip()


def _text_arguments(*required: str, **optional: str) -> dict[str, Any]:
    """Return the JSON schema of a tool's text arguments: the required ones by name, the optional ones with a description."""
    properties: dict[str, Any] = {name: {"type": "string"} for name in required}
    properties.update({name: {"type": "string", "description": about} for name, about in optional.items()})
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def builtin_tools() -> list[Tool]:
    """Return the built-in tools."""
    return [
        Tool(
            name="calculator",
            description="Evaluate an arithmetic expression, e.g. (3 + 4) * 12 / 7.",
            parameters=_text_arguments("expression"),
            handler=_calculator,
        ),
        Tool(
            name="current_time",
            description="Return the current date and time (UTC, ISO 8601).",
            parameters=_text_arguments(),
            handler=_current_time,
        ),
        Tool(
            name="read_file",
            description=(
                "Read an uploaded file by its stored name (as given in the user's message): text, PDF, "
                "DOCX, PPTX, XLSX, HTML and CSV come back as text; a long file is cut to fit and says so."
            ),
            parameters=_text_arguments("stored_name"),
            handler=_read_file,
        ),
        Tool(
            name="shell",
            description=(
                "Run a shell command with /bin/sh in a sandbox: the working directory is this "
                "conversation's scratch directory (kept between commands), there is no network, "
                "and time, memory, processes and output are limited. The user must approve it first."
            ),
            parameters=_text_arguments("command", reason="why the command is needed"),
            handler=_shell,
            dangerous=True,
            describe=lambda args: str(args.get("command", "")),
            sandboxed=True,
        ),
        Tool(
            name="ask_human",
            description="Ask the user a question and wait for the answer.",
            parameters=_text_arguments("question"),
            asks_human=True,
        ),
    ]
