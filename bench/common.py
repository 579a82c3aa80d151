"""What the benchmarks share: server processes, the AgentKit backend, /proc sampling, percentiles, tables."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
# the API key the benchmarks give the backend and send with every request
API_KEY = "bench-api-key"


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerSpec:
    """A server to start: its command (run from the repository root), its URL, where it answers when ready."""

    command: list[str]
    base: str
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ServerProcess:
    """A server in a subprocess of its own, its output in a log file."""

    spec: ServerSpec
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """Return the server's process id."""
        return self.process.pid

    @classmethod
    def launch(cls, spec: ServerSpec) -> ServerProcess:
        """Start the server without waiting for it."""
        log_file = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        with log_file:
            process = subprocess.Popen(
                spec.command,
                cwd=ROOT,
                env={**os.environ, **spec.env},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        return cls(spec, process, Path(log_file.name))

    def wait_ready(self, deadline: float) -> None:
        """Wait until the server answers 200 at its ready path, or until ``deadline`` (``time.monotonic``).

        Raises:
            RuntimeError: the server exited or did not answer in time (with the end of its log).
        """
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.command[:4]} exited while starting:\n{self.log_tail()}")
            try:
                if httpx.get(self.spec.base + self.spec.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.spec.command[:4]} did not answer in time:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, chars: int = 3000) -> str:
        """Return the end of the server's output."""
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s) and remove its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def running(*specs: ServerSpec, timeout_s: float = 120.0) -> Iterator[list[ServerProcess]]:
    """Start the servers side by side, wait until all answer, yield them, and stop them all at the end."""
    servers: list[ServerProcess] = []
    try:
        servers.extend(ServerProcess.launch(spec) for spec in specs)
        deadline = time.monotonic() + timeout_s
        for server in servers:
            server.wait_ready(deadline)
        yield servers
    finally:
        for server in servers:
            server.stop()


# the ASGI servers a benchmark can run the backend on: granian is what `reflex run --env prod` runs
SERVERS = ("granian", "uvicorn")


def asgi_spec(app_factory: str, ready_path: str, env: dict[str, str], server: str = "uvicorn") -> ServerSpec:
    """Return a one-process ASGI server (granian or uvicorn) of ``app_factory`` (``module:function``) on a free port.

    Both pick their event loop as they do in production: uvloop when it is installed.
    """
    port = free_port()
    if server == "granian":
        command = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--workers", "1",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log", app_factory,
        ]  # fmt: skip
    elif server == "uvicorn":
        command = [
            sys.executable, "-m", "uvicorn", app_factory, "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    else:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    return ServerSpec(command, f"http://127.0.0.1:{port}", ready_path, env)


def backend_settings(
    data: Path, llm_base_url: str | None = None, database_url: str | None = None
) -> dict[str, str]:
    """Return the ``AGENTKIT_*`` variables of a benchmark backend: its files under ``data``, the bench API key.

    Args:
        data: the directory for the SQLite database, uploads and scratch space.
        llm_base_url: the model endpoint's API root; None for the offline demo model.
        database_url: another database (e.g. PostgreSQL) instead of a SQLite file under ``data``.
    """
    return {
        "AGENTKIT_DATABASE_URL": database_url or f"sqlite:///{data / 'bench.db'}",
        "AGENTKIT_UPLOAD_DIR": str(data / "uploads"),
        "AGENTKIT_SCRATCH_DIR": str(data / "scratch"),
        "AGENTKIT_REDIS_URL": "",
        "AGENTKIT_API_KEY": API_KEY,
        "AGENTKIT_LLM_BASE_URL": llm_base_url or "",
        "AGENTKIT_LLM_MODEL": "paced",
    }


def backend_spec(settings: dict[str, str], server: str = "granian") -> ServerSpec:
    """Return the AgentKit API alone (one process, no Reflex UI) with ``settings`` as its environment.

    ``server`` is the ASGI server: granian by default, the one production runs.
    """
    return asgi_spec("agentkit_app.api.app:build_api", "/api/v1/health", settings, server)


def warm_up_backend(backend: ServerProcess) -> None:
    """Make the backend build its service (migrations, catalog) now, so that no measured request pays for it."""
    response = httpx.get(
        f"{backend.spec.base}/api/v1/chat/agents", headers={"X-API-Key": API_KEY}, timeout=120
    )
    response.raise_for_status()


@dataclass
class ProcessUsage:
    """Peak resident memory and CPU time of a process over a stretch of time."""

    peak_rss_bytes: int = 0
    cpu_s: float = 0.0


def _family(pid: int, descendants: bool = True) -> list[psutil.Process]:
    """Return a process and, unless told not to, its live descendants (granian runs its app in a child)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)] if descendants else [root]


def _cpu_s(family: list[psutil.Process]) -> float:
    """Return the user + system CPU seconds the processes of ``family`` have used."""
    total = 0.0
    for process in family:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _rss_bytes(family: list[psutil.Process]) -> int:
    """Return the resident memory of the processes of ``family``."""
    total = 0
    for process in family:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


@dataclass
class ProcessSampler:
    """Samples a process's resident memory every ``interval_s`` while running; counts its CPU time.

    The process's descendants count with it unless ``descendants`` is False (the benchmark's own
    process, whose children are the servers it measures). They are listed once, at the start: walking
    every process of the machine at each sample would take CPU from what is measured.
    """

    pid: int
    interval_s: float = 0.05
    descendants: bool = True
    usage: ProcessUsage = field(default_factory=ProcessUsage)
    _task: asyncio.Task[None] | None = None
    _cpu_at_start: float = 0.0
    _family: list[psutil.Process] = field(default_factory=list)

    async def __aenter__(self) -> ProcessSampler:
        self._family = _family(self.pid, self.descendants)
        self._cpu_at_start = _cpu_s(self._family)
        self.usage.peak_rss_bytes = _rss_bytes(self._family)
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.usage.peak_rss_bytes = max(self.usage.peak_rss_bytes, _rss_bytes(self._family))
        self.usage.cpu_s = _cpu_s(self._family) - self._cpu_at_start

    async def _sample(self) -> None:
        while True:
            self.usage.peak_rss_bytes = max(self.usage.peak_rss_bytes, _rss_bytes(self._family))
            await asyncio.sleep(self.interval_s)


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values`` by the nearest-rank method; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Row:
    """One line of a result table: a figure, the app's value, the baseline's (None: no counterpart)."""

    figure: str
    app: float | str
    baseline: float | str | None = None
    digits: int = 1


def _cell(value: float | str | None, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return "nan" if math.isnan(value) else f"{value:,.{digits}f}"


def _ratio(row: Row) -> str:
    if isinstance(row.app, str) or not isinstance(row.baseline, int | float):
        return "-"
    if row.baseline == 0 or math.isnan(row.baseline) or math.isnan(row.app):
        return "-"
    return f"{row.app / row.baseline:.2f}x"


def format_table(title: str, rows: Sequence[Row], app: str = "AgentKit", baseline: str = "baseline") -> str:
    """Return a Markdown table of ``rows``: figure, the app's value, the baseline's, and app / baseline."""
    header = ["figure", app, baseline, "ratio"]
    cells = [
        [row.figure, _cell(row.app, row.digits), _cell(row.baseline, row.digits), _ratio(row)] for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(4)]

    def line(values: list[str]) -> str:
        padded = [
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    separator = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([f"### {title}", "", line(header), separator, *(line(c) for c in cells)])
