"""The shell sandbox, attacked for real through bubblewrap: what a command can reach, and its limits."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from agentkit_app.engine.tools import ToolContext, ToolRegistry
from agentkit_app.engine.tools.builtin import builtin_tools
from agentkit_app.engine.tools.sandbox import ShellSandbox, remove_session_scratch, session_scratch

SMALL = ShellSandbox(memory_mb=256, max_processes=32, max_output_bytes=16_000, max_file_mb=8)
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """Return a session's scratch directory, with an other session's and the app's data beside it."""
    root = tmp_path / "scratch"
    (root / "other-session").mkdir(parents=True)
    (root / "other-session" / "theirs.txt").write_text("OTHER-SESSION-SECRET")
    return root / uuid.uuid4().hex


def marker() -> str:
    """Return a text unique to one test, to find its processes by their command line."""
    return uuid.uuid4().hex


def left_over(mark: str, wait_s: float = 5.0) -> list[int]:
    """Return what :func:`left_behind` finds once the kernel has had ``wait_s`` to finish its kills.

    The processes of a sandbox's pid namespace are killed by the kernel when its first process exits,
    and on a busy machine a killed one can still show for a moment before it is gone.
    """
    deadline = time.monotonic() + wait_s
    while (found := left_behind(mark)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def left_behind(mark: str) -> list[int]:
    """Return the live processes carrying ``mark`` in their command line, or bubblewrap below this test."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.status() != psutil.STATUS_ZOMBIE and proc.name() in ("bwrap", "setpriv"):
                found.append(proc.pid)
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and mark in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


def test_a_sandbox_can_start_here_and_a_missing_bwrap_is_no_sandbox():
    assert SMALL.available(), SMALL.problem()
    missing = ShellSandbox(bwrap="/nonexistent/bwrap")
    assert not missing.available()
    assert "bubblewrap" in (missing.problem() or "")


async def test_a_command_cannot_read_the_apps_data_uploads_or_private_directories(tmp_path, scratch):
    data = tmp_path / "data"
    (data / "uploads").mkdir(parents=True)
    (data / "agentkit.db").write_text("DATABASE-SECRET")
    (data / "uploads" / "report.txt").write_text("UPLOAD-SECRET")
    attempts = [
        f"cat {data / 'agentkit.db'}",
        f"ls {data}",
        f"cat {data / 'uploads' / 'report.txt'}",
        "ls /root",
        "cat /etc/shadow /etc/hostname",
        "ls /home /var /opt",
        "cat /proc/1/root/etc/shadow",
    ]
    if REPO_DATA.is_dir():  # the real deployment's data directory, when this checkout has one
        attempts += [f"ls {REPO_DATA}", f"cat {REPO_DATA / 'agentkit.db'}"]
    result = await SMALL.run("; ".join(attempts), scratch, 10)
    text = result.output.decode()
    assert (data / "agentkit.db").read_text() == "DATABASE-SECRET", "the test process itself can read it"
    assert "DATABASE-SECRET" not in text and "UPLOAD-SECRET" not in text
    assert not {"agentkit.db", "uploads", "report.txt"} & {line.strip() for line in text.splitlines()}
    assert text.count("No such file or directory") >= len(attempts) - 1


async def test_a_command_does_not_see_the_servers_environment(monkeypatch, scratch):
    monkeypatch.setenv("AGENTKIT_JWT_SECRET", "JWT-SECRET-IN-THE-SERVER")
    result = await SMALL.run("env; cat /proc/1/environ /proc/self/environ", scratch, 10)
    text = result.output.decode(errors="replace")
    assert os.environ["AGENTKIT_JWT_SECRET"] == "JWT-SECRET-IN-THE-SERVER"
    assert "JWT-SECRET-IN-THE-SERVER" not in text and "AGENTKIT_" not in text
    assert "HOME=/work" in text


async def test_a_command_writes_only_its_scratch_directory_and_its_tmp_is_gone_afterwards(scratch):
    name = f"sandbox-{marker()}"
    first = await SMALL.run(
        f"echo kept > note.txt; echo x > /usr/{name}; echo x > /etc/{name}; echo x > /{name}; "
        f"echo gone > /tmp/{name}; ls -a ..; cat ../other-session/theirs.txt {scratch.parent}/other-session/theirs.txt",
        scratch,
        10,
    )
    text = first.output.decode()
    assert (scratch / "note.txt").read_text() == "kept\n"
    assert text.count("Read-only file system") == 3
    assert (
        not Path("/usr", name).exists()
        and not Path("/etc", name).exists()
        and not Path("/tmp", name).exists()
    )
    assert "OTHER-SESSION-SECRET" not in text, "the parent of the scratch directory is not visible"
    assert "other-session" not in {line.strip() for line in text.splitlines()}
    second = await SMALL.run(f"cat note.txt; cat /tmp/{name}", scratch, 10)
    assert second.output.decode().startswith("kept\n") and "No such file" in second.output.decode()


@pytest.mark.postgres
async def test_a_command_cannot_connect_to_postgres_redis_or_anywhere(scratch):
    for port in (5432, 6379):  # the server itself can: so the sandbox is what stops the command
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    probe = (
        "import socket\n"
        "for host, port in (('127.0.0.1', 5432), ('127.0.0.1', 6379), ('1.1.1.1', 53)):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=2).close()\n"
        "        print('open', port)\n"
        "    except OSError as exc:\n"
        "        print('closed', port, exc.errno)\n"
    )
    result = await SMALL.run(f'python3 -c "{probe}"', scratch, 15)
    text = result.output.decode()
    assert "open" not in text
    assert "closed 5432" in text and "closed 6379" in text and "closed 53" in text


async def test_a_fork_bomb_is_held_at_the_process_limit_then_killed_leaving_nothing(scratch):
    mark = marker()
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    most = 0

    async def count() -> None:
        nonlocal most
        while True:
            started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
            most = max(most, len(started))
            await asyncio.sleep(0.05)

    counting = asyncio.create_task(count())
    started = time.monotonic()
    result = await SMALL.run(f"b() {{ b | b & }}; b; sleep 1000 # {mark}", scratch, 3)
    elapsed = time.monotonic() - started
    counting.cancel()
    assert result.timed_out or result.overflowed
    assert elapsed < 3 + 5
    # the sandbox's processes plus the bubblewrap processes above them (two when the server is root)
    assert most <= SMALL.max_processes + 3, most
    assert b"fork" in result.output.lower()
    assert left_behind(mark) == []


async def test_endless_output_is_cut_at_the_output_limit_leaving_nothing(scratch):
    mark = marker()
    started = time.monotonic()
    result = await SMALL.run(f"yes {mark}", scratch, 3)
    assert result.overflowed and not result.timed_out and result.exit_code is None
    assert len(result.output) == SMALL.max_output_bytes
    assert time.monotonic() - started < 3
    assert left_behind(mark) == []


async def test_a_command_that_runs_too_long_is_killed_at_the_timeout_leaving_nothing(scratch):
    mark = f"1000.{int(uuid.uuid4().int % 10**9)}"
    started = time.monotonic()
    result = await SMALL.run(f"echo before; sleep {mark}", scratch, 2)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.output == b"before\n"
    assert 2 <= elapsed < 2 + 5
    assert left_behind(f"sleep {mark}") == []


async def test_the_sandbox_says_why_it_stopped_each_command_and_only_those(scratch):
    stopped: list[str] = []
    sandbox = dataclasses.replace(SMALL, on_stop=stopped.append)
    assert sandbox.available() and sandbox == SMALL  # the listener is no part of the sandbox's limits
    await sandbox.run("echo fine", scratch, 5)
    await sandbox.run("yes", scratch, 5)
    await sandbox.run("sleep 30", scratch, 0.5)
    assert stopped == ["output", "timeout"]


async def test_a_background_process_does_not_outlive_its_command(scratch):
    mark = f"1000.{int(uuid.uuid4().int % 10**9)}"
    result = await SMALL.run(f"sleep {mark} >/dev/null 2>&1 & echo started", scratch, 10)
    assert (result.exit_code, result.output) == (0, b"started\n")
    assert left_over(f"sleep {mark}") == []


async def test_stop_cancels_a_running_command_at_once_leaving_nothing(scratch):
    mark = f"1000.{int(uuid.uuid4().int % 10**9)}"
    task = asyncio.create_task(SMALL.run(f"sleep {mark}", scratch, 60))

    def sleeping() -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["name", "cmdline"]) if p.info["cmdline"] == ["sleep", mark]]

    for _ in range(200):
        if sleeping():
            break
        await asyncio.sleep(0.05)
    assert sleeping(), "the command started"
    assert all(p.uids().real != 0 for p in sleeping()), "it never runs as the host's root"
    stopped = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - stopped < 5
    assert left_behind(f"sleep {mark}") == []


async def test_memory_and_file_size_are_limited(scratch):
    result = await SMALL.run(
        "python3 -c 'bytearray(512 * 1024 * 1024)' || echo no-memory; "
        "head -c 20000000 /dev/zero > big; echo big=$(wc -c < big)",
        scratch,
        10,
    )
    text = result.output.decode()
    assert "MemoryError" in text and "no-memory" in text
    assert f"big={8 * 1024 * 1024}" in text


def test_each_session_has_its_own_scratch_directory_named_by_its_hex_id(tmp_path):
    context = ToolContext(tmp_path / "up", tmp_path / "scratch", sandbox=SMALL)
    assert context.for_session("ab12").scratch_dir == tmp_path / "scratch" / "ab12"
    assert context.for_session("ab12").sandbox is SMALL
    for bad in ("", "..", "../etc", "AB12", "ab/12", "ab12\n", "x" * 10):
        unsafe = context.for_session(bad)
        assert unsafe.sandbox is None and unsafe.scratch_dir == tmp_path / "scratch", bad
    assert session_scratch(tmp_path, "../x") is None


async def test_purging_a_session_removes_what_its_commands_left(tmp_path):
    root = tmp_path / "scratch"
    session = uuid.uuid4().hex
    await SMALL.run(
        "mkdir -p locked/deep && echo x > locked/deep/f && chmod 500 locked/deep locked", root / session, 10
    )
    (root / "keep").mkdir()
    remove_session_scratch(root, "..")
    remove_session_scratch(root, "keep")  # not a hex id: never removed
    assert (root / session / "locked" / "deep" / "f").exists() and (root / "keep").exists()
    remove_session_scratch(root, session)
    assert not (root / session).exists() and (root / "keep").exists()


async def test_the_shell_is_offered_only_with_a_sandbox_that_can_start_and_never_runs_without(tmp_path):
    tools = ToolRegistry(builtin_tools())
    working = ToolContext(tmp_path / "up", tmp_path / "scratch", sandbox=SMALL)
    no_bwrap = ToolContext(
        tmp_path / "up", tmp_path / "scratch", sandbox=ShellSandbox(bwrap="/nonexistent/bwrap")
    )
    none = ToolContext(tmp_path / "up", tmp_path / "scratch", sandbox=None)
    assert "shell" in tools.usable(working).names()
    assert "shell" not in tools.usable(working, sandboxed=False).names()
    for context in (no_bwrap, none):
        offered = tools.usable(context).names()
        assert "shell" not in offered and {"calculator", "read_file", "ask_human"} <= set(offered)
    shell = tools.get("shell")
    outside = tmp_path / "ran-on-the-host"
    refused = await shell.handler({"command": f"touch {outside}"}, no_bwrap)
    assert refused == "error: the shell is not available here"
    assert (
        await shell.handler({"command": f"touch {outside}"}, none) == "error: the shell is not available here"
    )
    assert not outside.exists()


NON_ROOT_SERVER = """
import asyncio, json, os, tempfile, time
from pathlib import Path
from agentkit_app.engine.tools.sandbox import ShellSandbox, _descendants

async def main():
    sandbox = ShellSandbox(memory_mb=256, max_processes=32, max_output_bytes=16_000, max_file_mb=8)
    scratch = Path(tempfile.mkdtemp()) / "session"
    most = 0
    async def count():
        nonlocal most
        while True:
            most = max(most, len(_descendants(os.getpid())))
            await asyncio.sleep(0.05)
    counting = asyncio.create_task(count())
    bomb = await sandbox.run("b() { b | b & }; b; sleep 1000 # MARK", scratch, 3)
    counting.cancel()
    probe = await sandbox.run(
        "id -u; python3 -c 'import socket; socket.create_connection((\\"127.0.0.1\\", 5432), 2)'",
        scratch,
        10,
    )
    print(json.dumps({
        "problem": sandbox.problem(),
        "most": most,
        "stopped": bomb.timed_out or bomb.overflowed,
        "probe": probe.output.decode(),
    }))

asyncio.run(main())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the test process itself is the non-root server")
def test_a_server_that_is_not_root_gets_the_same_sandbox(tmp_path):
    system_python = Path("/usr/bin/python3")
    if not system_python.exists():
        pytest.skip("no system python to run a server as another user")
    mark = marker()
    done = subprocess.run(
        [str(system_python), "-c", NON_ROOT_SERVER.replace("MARK", mark)],
        user=65534,
        group=65534,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        cwd="/",
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["problem"] is None
    assert report["stopped"] and report["most"] <= SMALL.max_processes + 2, report
    assert report["probe"].startswith("1000\n")
    assert "ConnectionRefusedError" in report["probe"] or "Network is unreachable" in report["probe"]
    assert left_behind(mark) == []


CRASHING_SERVER = """
import asyncio, sys
from pathlib import Path
from agentkit_app.engine.tools.sandbox import ShellSandbox

asyncio.run(ShellSandbox().run("sleep MARK", Path(sys.argv[1]), 60))
"""


def test_a_server_that_dies_takes_its_running_commands_with_it(tmp_path):
    mark = f"1000.{int(uuid.uuid4().int % 10**9)}"

    def sleeping() -> list[psutil.Process]:
        return [
            p
            for p in psutil.process_iter(["cmdline", "status"])
            if p.info["cmdline"] == ["sleep", mark] and p.info["status"] != psutil.STATUS_ZOMBIE
        ]

    server = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SERVER.replace("MARK", mark), str(tmp_path / "session")],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        for _ in range(200):
            if sleeping():
                break
            time.sleep(0.05)
        assert sleeping(), "the command started"
    finally:
        server.kill()
        server.wait()
    for _ in range(100):  # the kernel delivers the parent-death signals one level at a time
        if not left_behind(f"sleep {mark}"):
            break
        time.sleep(0.05)
    assert left_behind(f"sleep {mark}") == []
