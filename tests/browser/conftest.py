"""One production AgentKit server (``reflex run --env prod``) shared by every browser test.

It runs on a free port with its own SQLite file and upload dir, on the offline demo model.
Browsers are Debian's chromium driven by pytest-playwright.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from playwright.sync_api import Browser, BrowserContext

from tests.browser.server import CHROMIUM, CHROMIUM_FLAGS, ROOT, start_app, stop_app

ARTIFACTS = ROOT / "test-artifacts"
REDIS_URL = "redis://127.0.0.1:6379/0"
# the app runs with accounts on, as a team deployment would; tests sign in as this admin
ADMIN = ("admin", "admin-pass-for-tests")
REDIS_PREFIX = f"agentkit-ui-test-{os.getpid()}:"  # team checkpoints of this run, removed afterwards


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium headless (Playwright's own browsers cannot be downloaded here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does it)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's data directory: its SQLite database (``agentkit.db``), uploads and scratch space."""
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="session")
def app_url(app_data: Path) -> Iterator[str]:
    """Start the whole app (UI + API on one port) and yield its URL."""
    try:
        process, url = start_app(
            app_data,
            ARTIFACTS / "app-server.log",
            AGENTKIT_REDIS_URL=REDIS_URL,
            AGENTKIT_REDIS_KEY_PREFIX=REDIS_PREFIX,
            AGENTKIT_AUTH_ENABLED="true",
            AGENTKIT_ADMIN_USERNAME=ADMIN[0],
            AGENTKIT_ADMIN_PASSWORD=ADMIN[1],
            AGENTKIT_JWT_SECRET="browser-tests-secret-that-is-long-enough-0123456789",
            # Redis makes Reflex start 2 x cores + 1 workers; on a shared test machine one keeps timings
            # steady (tests/scale runs several processes against each other)
            GRANIAN_WORKERS="1",
        )
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield url
    finally:
        stop_app(process)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{REDIS_PREFIX}*"):
            client.delete(key)


# Reports every Content-Security-Policy violation of every frame to the test (see csp_violations).
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => window.__akCspViolation(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} in ${e.documentURI}${e.sample ? ": " + e.sample : ""}`));"""


@pytest.fixture(autouse=True)
def csp_violations(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if a page it opened broke the app's Content-Security-Policy.

    Every browser context the test opens (pytest-playwright's ``page`` or ``browser.new_context()``)
    reports violations into the list this yields. A test that provokes violations on purpose
    checks them and empties the list.
    """
    seen: list[str] = []
    original = Browser.new_context

    def report(violation: str) -> None:
        seen.append(violation)

    def new_context(self: Browser, *args, **kwargs) -> BrowserContext:
        context = original(self, *args, **kwargs)
        context.expose_function("__akCspViolation", report)
        context.add_init_script(CSP_LISTENER)
        return context

    monkeypatch.setattr(Browser, "new_context", new_context)
    yield seen
    assert not seen, f"Content-Security-Policy violations in {request.node.name}: {seen}"


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
    """A signed-in page on a new conversation (the landing page), ready to type into.

    The conversation exists once its first message is sent: the page then moves to ``/chat/ID``.
    """
    page.set_default_timeout(20_000)
    sign_in(page, app_url)  # signing in lands there
    page.locator("#landing_composer #composer").wait_for()
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
