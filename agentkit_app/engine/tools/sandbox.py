"""Runs shell commands in a bubblewrap sandbox: no network, no view of the host, hard limits.

A sandbox sees read-only system directories (``/usr`` and the ``/bin``, ``/lib`` ... links or
directories as the host has them), the few ``/etc`` files a dynamically linked program needs, a
private ``/proc``, ``/dev`` and size-limited ``/tmp``, and one session's scratch directory as its
working directory ``/work``. It does not see the rest of ``/etc``, ``/home``, ``/root``, ``/var``,
the app's data, uploads or database, nor the server's environment; its network namespace holds
only a private loopback. Everything else is read-only.

The sandbox's user is uid 1000 inside and, on the host, the server's user, or ``nobody`` when the
server runs as root: the kernel never applies the process limit to the host's root, so a fork bomb
would not be stopped. Then a first bubblewrap, as root, only shows the scratch directory at a fixed
path (its parents need not be reachable by ``nobody``) and becomes ``nobody`` with ``setpriv``; the
sandbox proper is a second bubblewrap.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
WORKDIR = "/work"
SANDBOX_UID = 1000
# who runs the sandbox (and owns the scratch directories) when the server runs as root
HOST_UID_FOR_ROOT = 65534
# where the root stage shows the scratch directory to the sandbox, whatever its parents' permissions
_STAGED_WORKDIR = "/run/agentkit-sandbox-work"
_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime")
_PASSWD = (
    f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{WORKDIR}:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
_GROUP = f"sandbox:x:{SANDBOX_UID}:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n"
_SESSION_ID = re.compile(r"[0-9a-f]{1,64}")
# Sets the limits inside the sandbox, then runs the command ("$1"); a limit that cannot be set
# stops it. Both soft and hard limits are set, so the command cannot raise them again. The
# process limit is ``ulimit -u`` in bash and busybox but ``-p`` in dash, where ``-u`` is an error
# that ends the shell: hence the probe in a subshell. ``-f`` counts 512-byte blocks.
_LIMITS = (
    "ulimit -c 0 && ulimit -t {cpu_s} && ulimit -v {memory_kb} && ulimit -f {file_blocks} && "
    "if (ulimit -u {processes}) 2>/dev/null; then ulimit -u {processes}; else ulimit -p {processes}; fi && "
    'exec /bin/sh -c "$1"'
)
_READ_CHUNK = 65_536
_PROBE_TIMEOUT_S = 10.0
# the cleanups in flight, so that none is garbage-collected before it is done
_STOPPING: set[asyncio.Future[None]] = set()


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """What one sandboxed command did: its output (stdout and stderr) and how it ended."""

    output: bytes
    exit_code: int | None  # None when the sandbox stopped it
    timed_out: bool = False
    overflowed: bool = False  # it wrote more than the output limit


@dataclass(frozen=True, slots=True)
class ShellSandbox:
    """Runs one shell command at a time in a fresh bubblewrap sandbox, within these limits."""

    memory_mb: int = 1024  # address space of each process
    max_processes: int = 64  # processes and threads at once, inside one sandbox
    max_output_bytes: int = 64_000  # more output stops the command
    max_file_mb: int = 64  # the largest file it may write; also the size of its /tmp and /dev/shm
    bwrap: str = field(default_factory=lambda: shutil.which("bwrap") or "")
    setpriv: str = field(default_factory=lambda: shutil.which("setpriv") or "")  # needed as root only
    # told why each command it stopped was stopped ("timeout", "output"), e.g. to count them
    on_stop: Callable[[str], None] | None = field(default=None, compare=False)

    def problem(self) -> str | None:
        """Return why no sandbox can start here, or None when one can (probed once per configuration)."""
        return _probe(self)

    def available(self) -> bool:
        """Return whether a sandbox can start here: bubblewrap exists and runs a command with these flags."""
        return self.problem() is None

    async def run(self, command: str, workdir: Path, timeout_s: float) -> SandboxResult:
        """Run ``command`` with ``/bin/sh -c`` in a sandbox whose working directory is ``workdir``.

        The command is killed with everything it started (its whole pid namespace) when it runs
        longer than ``timeout_s``, when it writes more than ``max_output_bytes``, or when the task
        awaiting it is cancelled; this returns (or re-raises the cancellation) only once it is gone.

        Raises:
            OSError: bubblewrap could not be started.
        """
        await asyncio.to_thread(_prepare_workdir, workdir)
        output = bytearray()
        with self._launch(command, workdir, timeout_s) as (argv, options):
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, **options
            )
        try:
            async with asyncio.timeout(timeout_s):
                assert proc.stdout is not None
                if await _read_capped(proc.stdout, self.max_output_bytes, output):
                    self._stopped("output")
                    return SandboxResult(bytes(output), None, overflowed=True)
                return SandboxResult(bytes(output), await proc.wait())
        except TimeoutError:
            self._stopped("timeout")
            return SandboxResult(bytes(output), None, timed_out=True)
        finally:
            # shielded: a second cancellation (Stop pressed twice) must not cut the cleanup short
            stopping = asyncio.ensure_future(_stop(proc))
            _STOPPING.add(stopping)
            stopping.add_done_callback(_STOPPING.discard)
            await asyncio.shield(stopping)

    def _stopped(self, reason: str) -> None:
        log.info("the sandbox stopped a shell command", extra={"reason": reason})
        if self.on_stop is not None:
            self.on_stop(reason)

    @contextlib.contextmanager
    def _launch(
        self, command: str, workdir: Path, timeout_s: float
    ) -> Iterator[tuple[list[str], dict[str, Any]]]:
        """Yield the argv and the process options; the descriptors they pass are closed on exit."""
        as_root = os.geteuid() == 0
        fds: list[int] = []
        try:
            passwd, group, hosts = (_data_fd(text, fds) for text in (_PASSWD, _GROUP, _HOSTS))
            limits = _LIMITS.format(
                cpu_s=math.ceil(timeout_s) + 1,
                memory_kb=self.memory_mb * 1024,
                file_blocks=self.max_file_mb * 2048,
                processes=self.max_processes,
            )
            tmp_bytes = str(self.max_file_mb * 1024 * 1024)
            argv = [
                self.bwrap,
                "--unshare-all",  # pid, ipc, uts, cgroup and network (only a private loopback)
                "--unshare-user",
                "--disable-userns",  # no nested namespace, where a command could mount unlimited tmpfs
                "--uid", str(SANDBOX_UID),
                "--gid", str(SANDBOX_UID),
                "--hostname", "sandbox",
                "--die-with-parent",
                "--new-session",  # no terminal to push keystrokes into
                "--clearenv",
                "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
                "--setenv", "HOME", WORKDIR,
                "--setenv", "LANG", "C.UTF-8",
                "--setenv", "TMPDIR", "/tmp",
                "--ro-bind", "/usr", "/usr",
                *_system_links(),
                *(arg for name in _ETC_FILES for arg in ("--ro-bind-try", f"/etc/{name}", f"/etc/{name}")),
                "--ro-bind-data", str(passwd), "/etc/passwd",
                "--ro-bind-data", str(group), "/etc/group",
                "--ro-bind-data", str(hosts), "/etc/hosts",
                "--proc", "/proc",
                "--dev", "/dev",
                "--size", tmp_bytes, "--tmpfs", "/dev/shm",
                "--size", tmp_bytes, "--tmpfs", "/tmp",
                "--bind", _STAGED_WORKDIR if as_root else str(workdir), WORKDIR,
                "--chdir", WORKDIR,
                # the root and /dev are in-memory file systems without a size limit: read-only
                "--remount-ro", "/dev",
                "--remount-ro", "/",
                "--", "/bin/sh", "-c", limits, "sandbox", command,
            ]  # fmt: skip
            if as_root:
                if not self.setpriv:
                    raise FileNotFoundError("setpriv (util-linux) is needed to leave root")
                argv = [
                    self.bwrap,
                    "--die-with-parent",
                    "--dev-bind", "/", "/",
                    "--tmpfs", "/run",
                    "--bind", str(workdir), _STAGED_WORKDIR,
                    "--cap-drop", "ALL",
                    "--cap-add", "CAP_SETUID",  # for setpriv
                    "--cap-add", "CAP_SETGID",
                    "--cap-add", "CAP_KILL",  # for the shell's death to reach nobody's processes
                    # A root shell in between: it dies with the server (bubblewrap's own process, root
                    # without capabilities, may not signal nobody's), and its death kills the sandbox's
                    # bubblewrap by that one's --die-with-parent.
                    "--", "/bin/sh", "-c", '"$@" & wait $!', "sh",
                    self.setpriv,
                    f"--reuid={HOST_UID_FOR_ROOT}", f"--regid={HOST_UID_FOR_ROOT}", "--clear-groups",
                    "--", *argv,
                ]  # fmt: skip
            options = {
                "stdin": subprocess.DEVNULL,
                "pass_fds": tuple(fds),
                "env": {},
                "start_new_session": True,
            }
            yield argv, options
        finally:
            for fd in fds:
                os.close(fd)


def session_scratch(root: Path, session_id: str) -> Path | None:
    """Return the scratch directory of a session under ``root``, or None if the id is not a plain hex id."""
    if not _SESSION_ID.fullmatch(session_id):
        return None
    return root / session_id


def remove_session_scratch(root: Path, session_id: str) -> None:
    """Delete a session's scratch directory and everything its commands left in it (blocking)."""
    path = session_scratch(root, session_id)
    if path is None or not path.is_dir() or path.is_symlink():
        return

    def allow_and_retry(function: Any, name: str, _: Any) -> None:
        # a command may have left directories without write permission for their owner
        with contextlib.suppress(OSError):
            parent = os.path.dirname(name)
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IRWXU)
            if os.path.isdir(name) and not os.path.islink(name):
                os.chmod(name, os.stat(name).st_mode | stat.S_IRWXU)
            function(name)

    shutil.rmtree(path, onerror=allow_and_retry)


@functools.lru_cache(maxsize=16)
def _probe(sandbox: ShellSandbox) -> str | None:
    """Start a sandbox with exactly the flags of a real command; return what went wrong, if anything."""
    if not sandbox.bwrap or not os.access(sandbox.bwrap, os.X_OK):
        return f"bubblewrap is not installed ({sandbox.bwrap or 'no bwrap on PATH'})"
    try:
        with tempfile.TemporaryDirectory(prefix="agentkit-sandbox-probe-") as tmp:
            workdir = Path(tmp) / "work"
            _prepare_workdir(workdir)
            with sandbox._launch("echo sandbox-ok", workdir, _PROBE_TIMEOUT_S) as (argv, options):
                done = subprocess.run(argv, capture_output=True, timeout=_PROBE_TIMEOUT_S, **options)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap cannot start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != b"sandbox-ok":
        error = done.stderr.decode("utf-8", errors="replace").strip()[:300]
        return f"bubblewrap cannot start a sandbox (exit code {done.returncode}): {error}"
    return None


def _prepare_workdir(workdir: Path) -> None:
    """Create the working directory, private to whoever runs the sandbox."""
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(workdir, HOST_UID_FOR_ROOT, HOST_UID_FOR_ROOT, follow_symlinks=False)
    os.chmod(workdir, 0o700)


def _system_links() -> list[str]:
    """Return the flags that recreate /bin, /lib ... as the host has them: links into /usr, or directories."""
    flags: list[str] = []
    for name in _SYSTEM_LINKS:
        host = Path("/", name)
        if host.is_symlink():
            flags += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            flags += ["--ro-bind", str(host), f"/{name}"]
    return flags


def _data_fd(text: str, fds: list[int]) -> int:
    """Return a descriptor to read ``text`` from (small enough to fit a pipe's buffer)."""
    read, write = os.pipe()
    fds.append(read)
    try:
        os.write(write, text.encode())
    finally:
        os.close(write)
    return read


async def _read_capped(stream: asyncio.StreamReader, limit: int, into: bytearray) -> bool:
    """Read ``stream`` to its end into ``into``, at most ``limit`` bytes; return True if it had more."""
    while chunk := await stream.read(_READ_CHUNK):
        if len(into) + len(chunk) > limit:
            into += chunk[: limit - len(into)]
            return True
        into += chunk
    return False


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Kill a sandbox that still runs and wait until nothing of it is left.

    The sandbox's pid 1 (bubblewrap's child in the sandbox's pid namespace) goes first: the kernel
    then kills every process of that namespace, and the bubblewrap processes above it, which wait
    for it, exit. Killing bubblewrap first would orphan it until ``--die-with-parent`` caught up.
    """
    if proc.returncode is None:
        inits: list[int] = []
        for _ in range(50):  # bubblewrap may still be setting up: give it a moment to start the sandbox
            inits = [pid for pid in _descendants(proc.pid) if _starts_pid_namespace(pid)]
            if inits or proc.returncode is not None:
                break
            await asyncio.sleep(0.01)
        for pid in inits:
            _kill(pid)
        if not inits:
            _kill_all(proc.pid)
    if not await _exited(proc):  # bubblewrap did not exit: --die-with-parent does the rest
        _kill_all(proc.pid)
        await _exited(proc)


async def _exited(proc: asyncio.subprocess.Process) -> bool:
    """Wait (a few seconds at most) for the process to exit; return whether it did.

    Its output is read to the end meanwhile and thrown away: asyncio reports the exit only once the
    pipe is closed, and a command stopped at the output limit may have left it full.
    """

    async def drain() -> None:
        while proc.stdout is not None and await proc.stdout.read(_READ_CHUNK):
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(drain(), proc.wait()), 5.0)
    return proc.returncode is not None


def _kill_all(pid: int) -> None:
    """Kill a process, its process group and everything below it."""
    for child in _descendants(pid):
        _kill(child)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    """Return the ids of the processes below ``pid``, parents before their children."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    queue = list(children.get(pid, []))
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue += children.get(child, [])
    return found


def _starts_pid_namespace(pid: int) -> bool:
    """Return whether ``pid`` is pid 1 of a pid namespace below ours."""
    try:
        with open(f"/proc/{pid}/status") as f:
            line = next((line for line in f if line.startswith("NSpid:")), "")
    except OSError:
        return False
    ids = line.split()[1:]
    return len(ids) > 1 and ids[-1] == "1"
