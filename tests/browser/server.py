"""Start and stop a whole AgentKit server (``reflex run --env prod``, UI and API on one port) for the
browser tests and for ``scripts/screenshots.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.conftest import ROOT, data_settings, free_port

CHROMIUM = "/usr/bin/chromium"  # Debian's: Playwright's own browsers cannot be downloaded here
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def start_app(data: Path, log_path: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """Start the app on a free port with its database and uploads under ``data``; return it and its URL.

    Raises RuntimeError (with the log's end) if it exits or does not answer in 420 s (the first
    build installs the frontend packages).
    """
    port = free_port()
    environment = {
        **os.environ,
        **data_settings(data, "agentkit.db"),
        "AGENTKIT_LLM_BASE_URL": "",
        "AGENTKIT_API_KEY": "",
        "PATH": f"{ROOT / '.bun/node_modules/.bin'}:{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_BUN_PATH": str(ROOT / ".bun/node_modules/bun/bin/bun.exe"),
        "BUN_INSTALL_CACHE_DIR": str(ROOT / ".bun/cache"),
        "REFLEX_DIR": str(ROOT / ".reflex"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        **env,
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 420
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited while starting:\n{log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            stop_app(process)
            raise RuntimeError(f"the app did not start in 420 s:\n{log_path.read_text()[-3000:]}")
        try:
            if (
                httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
                and httpx.get(url, timeout=5).status_code == 200
            ):
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(1)


def stop_app(process: subprocess.Popen) -> None:
    """Stop the server and everything it started (granian workers, bun)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, 15)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
