"""The built-in tools."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentkit_app.engine.tools import ToolContext, ToolRegistry
from agentkit_app.engine.tools.builtin import builtin_tools, evaluate, resolve_upload
from agentkit_app.engine.tools.sandbox import ShellSandbox


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("(3 + 4) * 12", 84),
        ("2 ^ 10", 1024),
        ("7 / 2", 3.5),
        ("sqrt(16)", 4.0),
        ("-3 + 1", -2),
        ("6 × 7", 42),
    ],
)
def test_calculator_evaluates_arithmetic(expression, value):
    assert evaluate(expression) == value


@pytest.mark.parametrize("expression", ["__import__('os')", "a + 1", "2 ** 100000", "open('x')"])
def test_calculator_refuses_anything_else(expression):
    with pytest.raises(ValueError):
        evaluate(expression)


def context(tmp_path, timeout_s=5.0):
    return ToolContext(tmp_path / "up", tmp_path / "scratch", timeout_s)


async def test_division_by_zero_is_an_error_text(tmp_path):
    calc = ToolRegistry(builtin_tools()).get("calculator")
    assert (await calc.handler({"expression": "1/0"}, context(tmp_path))).startswith("error")


async def test_read_file_reads_an_upload_and_refuses_traversal(tmp_path):
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "abc.txt").write_text("line one\nline two")
    (tmp_path / "secret.txt").write_text("secret")
    read = ToolRegistry(builtin_tools()).get("read_file")
    assert await read.handler({"stored_name": "abc.txt"}, context(tmp_path)) == "line one\nline two"
    assert (await read.handler({"stored_name": "../secret.txt"}, context(tmp_path))).startswith(
        "error: no uploaded file"
    )
    assert resolve_upload(tmp_path / "up", "..") is None


async def test_read_file_opens_only_what_the_turn_may_read(tmp_path):
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "mine.txt").write_text("mine")
    (tmp_path / "up" / "theirs.txt").write_text("theirs")
    read = ToolRegistry(builtin_tools()).get("read_file")
    only_mine = ToolContext(tmp_path / "up", tmp_path / "scratch", may_read=lambda name: name == "mine.txt")
    assert await read.handler({"stored_name": "mine.txt"}, only_mine) == "mine"
    refused = await read.handler({"stored_name": "theirs.txt"}, only_mine)
    assert refused == "error: no uploaded file named 'theirs.txt'", (
        "the same answer as for a missing file: nothing leaks"
    )


async def test_shell_runs_in_the_sandbox_in_the_scratch_dir_and_times_out(tmp_path):
    shell = ToolRegistry(builtin_tools()).get("shell")
    assert shell.dangerous and shell.sandboxed
    out = await shell.handler({"command": "pwd; echo note > note.txt"}, context(tmp_path))
    assert out == "exit code 0\n/work", "the scratch directory is the sandbox's working directory"
    assert (tmp_path / "scratch" / "note.txt").read_text() == "note\n"
    assert await shell.handler({"command": "exit 3"}, context(tmp_path)) == "exit code 3"
    slow = await shell.handler({"command": "echo started; sleep 5"}, context(tmp_path, timeout_s=0.5))
    assert slow == "error: command timed out after 0.5s\nstarted"


async def test_shell_output_is_cut_at_the_sandbox_limit(tmp_path):
    shell = ToolRegistry(builtin_tools()).get("shell")
    small = replace(context(tmp_path), sandbox=ShellSandbox(max_output_bytes=1000))
    out = await shell.handler({"command": "yes"}, small)
    first, rest = out.split("\n", 1)
    assert first == "error: the command wrote more than 1000 bytes and was stopped"
    assert rest == ("y\n" * 500).rstrip(), "the first 1000 bytes"


async def test_shell_refuses_an_empty_command(tmp_path):
    shell = ToolRegistry(builtin_tools()).get("shell")
    assert await shell.handler({"command": "  "}, context(tmp_path)) == "error: empty command"
