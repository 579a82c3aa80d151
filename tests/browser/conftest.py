"""One production AgentKit server (``reflex run --env prod``) shared by every browser test.

It runs on a free port with its own SQLite file and upload dir, on the offline demo model.
Browsers are Debian's chromium driven by pytest-playwright.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.api.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
REDIS_URL = "redis://127.0.0.1:6379/0"
# the app runs with accounts on, as a team deployment would; tests sign in as this admin
ADMIN = ("admin", "admin-pass-for-tests")
REDIS_PREFIX = f"agentkit-ui-test-{os.getpid()}:"  # team checkpoints of this run, removed afterwards


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium headless (Playwright's own browsers cannot be downloaded here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does it)")
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": flags}


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the whole app (UI + API on one port) and yield its URL."""
    data = tmp_path_factory.mktemp("app")
    port = free_port()
    env = {
        **os.environ,
        "AGENTKIT_DATABASE_URL": f"sqlite:///{data / 'agentkit.db'}",
        "AGENTKIT_UPLOAD_DIR": str(data / "uploads"),
        "AGENTKIT_SCRATCH_DIR": str(data / "scratch"),
        "AGENTKIT_LLM_BASE_URL": "",
        "AGENTKIT_REDIS_URL": REDIS_URL,
        "AGENTKIT_REDIS_KEY_PREFIX": REDIS_PREFIX,
        "AGENTKIT_API_KEY": "",
        "AGENTKIT_AUTH_ENABLED": "true",
        "AGENTKIT_ADMIN_USERNAME": ADMIN[0],
        "AGENTKIT_ADMIN_PASSWORD": ADMIN[1],
        "AGENTKIT_JWT_SECRET": "browser-tests-secret-that-is-long-enough-0123456789",
        "PATH": f"{ROOT / '.bun/node_modules/.bin'}:{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_BUN_PATH": str(ROOT / ".bun/node_modules/bun/bin/bun.exe"),
        "BUN_INSTALL_CACHE_DIR": str(ROOT / ".bun/cache"),
        "REFLEX_DIR": str(ROOT / ".reflex"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "app-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 420  # the first build installs the frontend packages
        try:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the app exited while starting:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"the app did not start in 420 s:\n{log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200 and httpx.get(url, timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            yield url
        finally:
            _stop(process)
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{REDIS_PREFIX}*"):
                client.delete(key)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and everything it started (granian workers, bun)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, 15)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


def sign_in(page, app_url: str, username: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    """Sign in through the sign-in page and wait for the conversations page."""
    page.goto(f"{app_url}/login")
    page.locator("#login_username").fill(username)
    page.locator("#login_password").fill(password)
    page.locator("#login_submit").click()
    page.wait_for_url(lambda url: "/login" not in url)


def admin_headers(app_url: str) -> dict[str, str]:
    """Return REST headers carrying an admin token."""
    login = httpx.post(f"{app_url}/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    return {"Authorization": f"Bearer {login.json()['token']}"}


@pytest.fixture
def chat(page, app_url: str):
    """A signed-in page on a new conversation, ready to type into."""
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    page.locator("#new_chat").click()
    page.wait_for_url("**/chat/**")
    page.locator("#composer").wait_for()
    return page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot of the page when a browser test fails."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page")
    if report.when == "call" and report.failed and page is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{item.name}.png"), full_page=True)
