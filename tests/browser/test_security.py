"""An attacker's text and files in a real browser: nothing they carry runs on the app's origin.

Hostile markdown reaches the page two ways: live, written by the (offline demo) model, which
echoes what it was asked into chat answers, board speeches and team phase results; and stored,
written straight into the app's database as every kind of message the timeline shows. Each page
is checked while the run is on screen and again after a reload. Every browser test also fails on
a Content-Security-Policy violation (``csp_violations`` in the conftest), so the app's own pages
are known to work under the policy these tests check.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from agentkit_app.engine import events as ev
from agentkit_app.service.flows import event_message
from agentkit_app.store.db import make_engine
from agentkit_app.store.sessions import SessionManager
from tests.browser.conftest import admin_headers, sign_in
from tests.browser.test_ui import send

pytestmark = pytest.mark.browser

# Each line tries to run script (setting window.__pwned) or to leave a link or image that would.
HOSTILE = [
    '<img src=x onerror="window.__pwned=1">',
    '<svg><animate onbegin="window.__pwned=1" attributeName=x dur=1s>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>">',
    "<script>window.__pwned=1</script>",
    "[js link](javascript:window.__pwned=1)",
    "![js image](javascript:window.__pwned=1)",
    "[data link](data:text/html,hello)",
    "[vb link](vbscript:msgbox)",
    "$\\href{javascript:window.__pwned=1}{math link}$",
    "![beacon](https://attacker.invalid/leak.png)",
]
# What must still render: a table, a code block, math and a web link.
BENIGN = (
    "| tool | result |\n|---|---|\n| shell | ok |\n\n```python\nprint('still a code block')\n```\n\n"
    "$E = mc^2$ and [the docs](https://example.com/docs)"
)
DOCUMENT = "\n\n".join([*HOSTILE, BENIGN])

# Everything in the conversation and the sidebar an injection could have left behind.
LEFTOVERS_JS = """() => {
  const found = [];
  const scopes = ["#conversation", "#session_list"].map((s) => document.querySelector(s)).filter(Boolean);
  for (const scope of scopes) {
    for (const el of scope.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      if (["iframe", "frame", "object", "embed", "script", "animate", "set"].includes(tag)) found.push(tag);
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
        if (name.startsWith("on")) found.push(`${tag}[${name}]`);
        if (["href", "src", "xlink:href", "action", "formaction", "srcdoc"].includes(name)
            && /^(javascript|vbscript|data):/.test(value)) found.push(`${tag}[${name}=${attr.value}]`);
        if (name === "src" && value && new URL(attr.value, location.href).origin !== location.origin)
          found.push(`${tag}[src=${attr.value}] from elsewhere`);
      }
    }
  }
  return found;
}"""


def assert_nothing_ran(page: Page) -> None:
    """No script of the attacker's ran on this page, and nothing it could run later is in it."""
    assert page.evaluate("() => window.__pwned") is None, "hostile markup ran script"
    assert page.evaluate(LEFTOVERS_JS) == []


def _questions(limit: int = 200) -> list[str]:
    """The hostile lines, joined into as few questions as the demo model echoes whole (``limit`` characters)."""
    questions = [HOSTILE[0]]
    for line in HOSTILE[1:]:
        if len(questions[-1]) + 1 + len(line) <= limit:
            questions[-1] += " " + line
        else:
            questions.append(line)
    return questions


def test_hostile_markdown_written_live_by_the_model_runs_nothing(chat: Page):
    questions = _questions()
    answers = chat.locator(".ak-bubble.ak-assistant")
    for count, question in enumerate(questions, 1):
        send(chat, question)
        expect(chat.locator(".ak-bubble.ak-user").last).to_have_text(question)  # shown as the text it is
        expect(answers).to_have_count(count)
        assert_nothing_ran(chat)  # as the answer is written
        expect(answers.last).to_contain_text("not a real language model")  # the echo's end: written whole
        assert_nothing_ran(chat)
    for reload in (False, True):
        if reload:
            chat.reload()
            expect(answers).to_have_count(len(questions))
        expect(answers.first).to_contain_text("<script>parent.__pwned=1</script>")  # raw HTML stays text
        expect(chat.locator(".ak-markdown a", has_text="js link")).to_have_count(1)  # a link, but inert
        expect(chat.locator(".ak-markdown img[alt='beacon']")).to_have_count(1)  # an image that loads nothing
        assert_nothing_ran(chat)


def test_hostile_board_topic_echoed_in_live_speeches_runs_nothing(chat: Page):
    send(chat, "@board:Strategist,Risk Officer rounds=1 " + " ".join(HOSTILE))
    expect(chat.locator(".ak-speech").first).to_contain_text("<script>window.__pwned=1</script>")
    assert_nothing_ran(chat)  # while the meeting runs
    expect(chat.locator(".ak-conclusion")).to_be_visible(timeout=30_000)
    expect(chat.locator(".ak-speech")).to_have_count(2)
    expect(chat.locator(".ak-conclusion")).to_contain_text("<iframe srcdoc=")
    assert_nothing_ran(chat)
    chat.reload()
    expect(chat.locator(".ak-speech")).to_have_count(2)
    expect(chat.locator(".ak-speech").last).to_contain_text("<script>window.__pwned=1</script>")
    assert_nothing_ran(chat)


def test_hostile_team_task_echoed_in_live_phase_results_runs_nothing(chat: Page):
    send(chat, "@team review this: " + " ".join(HOSTILE))
    expect(chat.locator(".ak-synthesis")).to_contain_text("Team result", timeout=30_000)
    phases = chat.locator(".ak-phase")
    expect(phases).to_have_count(3)
    phases.first.locator("summary").click()
    expect(phases.first.locator(".ak-markdown")).to_contain_text("<script>window.__pwned=1</script>")
    assert_nothing_ran(chat)
    chat.reload()
    expect(chat.locator(".ak-phase")).to_have_count(3)
    chat.locator(".ak-phase").last.locator("summary").click()
    expect(chat.locator(".ak-phase").last.locator(".ak-markdown")).to_contain_text("<img src=x onerror=")
    expect(chat.locator(".ak-synthesis")).to_contain_text("<svg><animate onbegin=")
    assert_nothing_ran(chat)


def _store_hostile_conversation(app_url: str, database: Path) -> str:
    """Create a conversation holding the hostile document in every kind of message; return its id."""
    sid = httpx.post(
        f"{app_url}/api/v1/chat/sessions", json={"agent_name": "assistant"}, headers=admin_headers(app_url)
    ).json()["session_id"]
    expert = {"name": "Analyst", "avatar": "🔎", "color": "#0ea5e9"}
    events: list[ev.Event] = [
        ev.BoardStarted(team_id="board-1", topic=HOSTILE[0], experts=[expert], max_rounds=1),
        ev.ExpertSpeech(content=DOCUMENT, expert_name="Analyst", expert_avatar="🔎", expert_color="#0ea5e9",
                        round=1, role="analysis"),
        ev.RoundSummary(content=DOCUMENT, moderator_name="Chair", moderator_avatar="⚖️",
                        moderator_color="#6366f1", round=1),
        ev.BoardConcluded(summary=DOCUMENT, decision_advice=DOCUMENT, total_rounds=1,
                          consensus_points=HOSTILE[:3], dissent_points=HOSTILE[3:6]),
        ev.TeamFormed(team_id="team-1", status="formed", experts=[expert], lead_expert="Analyst",
                      plan_phases=[{"id": "p1", "name": HOSTILE[1], "expert": "Analyst"}]),
        ev.PhaseCompleted(phase_id="p1", name=HOSTILE[1], expert_name="Analyst", result=DOCUMENT, duration_s=1.0),
        ev.TeamSynthesis(content=DOCUMENT),
    ]  # fmt: skip

    async def write() -> None:
        store = SessionManager(make_engine(f"sqlite:///{database}"))
        await store.append_message(session_id=sid, role="user", content=DOCUMENT)
        await store.append_message(session_id=sid, role="assistant", content=DOCUMENT, agent_name="assistant")
        for event in events:
            content, meta = event_message(event) or ("", {})
            await store.append_message(
                session_id=sid, role="assistant", content=content, agent_name="assistant", metadata=meta
            )

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, write()).result()
    return sid


def test_hostile_markdown_stored_in_every_kind_of_message_runs_nothing(
    page: Page, app_url: str, app_data: Path
):
    sid = _store_hostile_conversation(app_url, app_data / "agentkit.db")
    page.set_default_timeout(20_000)
    sign_in(page, app_url)  # an admin opening a conversation: the sign-in token is in this page
    page.goto(f"{app_url}/chat/{sid}")
    for reload in (False, True):
        if reload:
            page.reload()
        expect(page.locator(".ak-synthesis")).to_be_visible()
        page.locator(".ak-phase summary").click()
        # every renderer showed the attack as text, and kept what markdown is for
        expect(page.locator(".ak-bubble.ak-user")).to_contain_text("<iframe srcdoc=")
        markdown = page.locator(".ak-markdown")
        expect(markdown).to_have_count(7)  # answer, speech, summary, conclusion + advice, phase, synthesis
        for index in range(7):
            block = markdown.nth(index)
            expect(block).to_contain_text("<script>window.__pwned=1</script>")
            expect(block.locator("table td").first).to_have_text("shell")
            expect(block.locator("pre, code").filter(has_text="still a code block").first).to_be_visible()
            expect(block.locator(".katex").first).to_be_visible()
            link = block.locator("a", has_text="the docs")  # opens apart, with no handle on this window
            expect(link).to_have_attribute("href", "https://example.com/docs")
            expect(link).to_have_attribute("rel", "noopener noreferrer")
            expect(link).to_have_attribute("target", "_blank")
        expect(page.locator(".ak-conclusion .ak-points")).to_contain_text([HOSTILE[0], HOSTILE[3]])
        assert_nothing_ran(page)


SCRIPT = "window.__pwned=1;document.cookie='pwned=1; path=/';localStorage.setItem('pwned','1')"
FILES = {
    "evil.html": (
        f'<html><body><script>{SCRIPT}</script><img src=x onerror="{SCRIPT}"></body></html>',
        "text/html",
    ),
    "evil.svg": (
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="{SCRIPT}"><script>{SCRIPT}</script></svg>',
        "image/svg+xml",
    ),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_an_uploaded_page_opened_from_its_link_runs_nothing(
    page: Page, app_url: str, name: str, csp_violations: list[str]
):
    headers = admin_headers(app_url)
    body, declared = FILES[name]
    stored = httpx.post(
        f"{app_url}/api/v1/chat/upload", files={"file": (name, body.encode(), declared)}, headers=headers
    )
    assert stored.status_code == 201, stored.text
    page.set_default_timeout(20_000)
    sign_in(page, app_url)  # the token the script would steal is in this origin's storage
    page.set_extra_http_headers(headers)  # as a signed-in user's link would be authorised
    downloads: list[str] = []
    page.on("download", lambda download: downloads.append(download.suggested_filename))
    try:
        page.goto(f"{app_url}{stored.json()['download_url']}")
        opened = True
    except PlaywrightError as exc:  # served as an attachment: the browser saves it, shows nothing
        assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc), exc
        opened = False
    if opened:
        assert page.evaluate("() => window.__pwned") is None
    else:
        for _ in range(50):  # the download event is delivered on a later call
            if downloads:
                break
            page.wait_for_timeout(100)
        assert downloads == [name]
    page.goto(app_url)
    expect(page.locator("#new_chat")).to_be_visible()
    assert page.evaluate("() => [window.__pwned, localStorage.getItem('pwned')]") == [None, None]
    assert not [c for c in page.context.cookies() if c["name"] == "pwned"]
    # what the policy blocked was the file's own script, nothing of the app's
    assert all("/api/v1/chat/uploads/" in v for v in csp_violations), csp_violations
    csp_violations.clear()


def test_pages_send_a_content_security_policy_the_browser_enforces(page: Page, app_url: str, csp_violations):
    for path in ("/", "/login", "/admin", "/chat/some-session"):
        headers = httpx.get(f"{app_url}{path}").headers
        policy = {d.split()[0]: d.split()[1:] for d in headers["content-security-policy"].split("; ")}
        assert "'unsafe-inline'" not in policy["script-src"] and "'self'" in policy["script-src"], path
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
    api = httpx.get(f"{app_url}/api/v1/health").headers["content-security-policy"]
    assert api.startswith("default-src 'none'")
    # Swagger UI comes from a CDN; its one inline starter script is allowed by its own hash only
    docs = httpx.get(f"{app_url}/api/v1/docs")
    starter = re.search(r"<script>(.*?)</script>", docs.text, re.S)
    assert starter is not None
    digest = base64.b64encode(hashlib.sha256(starter.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in docs.headers["content-security-policy"]
    assert (
        "'unsafe-inline'" not in docs.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    expect(page.locator("#new_chat")).to_be_visible()
    # markup that slipped past every other defence still cannot run: not inline, not as a handler
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__pwned = 1";
        document.body.appendChild(script);
        const img = document.createElement("img");
        img.setAttribute("onerror", "window.__pwned = 2");
        img.src = "/no-such-image.png";
        document.body.appendChild(img);
    }""")
    for _ in range(100):  # the reports arrive through the exposed binding
        if {"script-src-elem", "script-src-attr"} <= {v.split()[0] for v in csp_violations}:
            break
        page.wait_for_timeout(100)
    assert {"script-src-elem", "script-src-attr"} <= {v.split()[0] for v in csp_violations}, csp_violations
    assert page.evaluate("() => window.__pwned") is None
    csp_violations.clear()
