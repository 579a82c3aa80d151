"""Take the README's screenshots (assets/docs/*.png) with headless Chromium on the offline demo model.

Run from the repository root after the tests' setup: ``python -m scripts.screenshots``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.server import CHROMIUM, CHROMIUM_FLAGS, ROOT, start_app, stop_app

OUT = ROOT / "assets" / "docs"
ADMIN = ("admin", "screenshot-admin-password")
ACCOUNTS = {  # accounts on, as a team deployment runs it: the header shows who is signed in
    "AGENTKIT_AUTH_ENABLED": "true",
    "AGENTKIT_ADMIN_USERNAME": ADMIN[0],
    "AGENTKIT_ADMIN_PASSWORD": ADMIN[1],
    "AGENTKIT_JWT_SECRET": "screenshots-secret-0123456789-0123456789-abcdef",
}


def seed_accounts(url: str) -> None:
    """Two departments with limits and a few users, so the admin page has something to show."""
    token = httpx.post(f"{url}/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]}).json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    for name, limits, users in (
        ("Strategy", [("requests", "day", 200), ("tokens", "month", 2_000_000)], ["mei", "tom"]),
        ("Engineering", [("tokens", "day", 500_000)], ["ada"]),
    ):
        dept = httpx.post(f"{url}/api/v1/admin/departments", json={"name": name}, headers=headers).json()[
            "department_id"
        ]
        quotas = [{"quota_type": t, "period": p, "limit": n} for t, p, n in limits]
        httpx.put(
            f"{url}/api/v1/admin/departments/{dept}/quotas", json=quotas, headers=headers
        ).raise_for_status()
        for user in users:
            body = {"username": user, "password": f"{user}-password-1", "role": "user", "department_id": dept}
            httpx.post(f"{url}/api/v1/admin/users", json=body, headers=headers).raise_for_status()


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.locator("#login_username").fill(ADMIN[0])
    page.locator("#login_password").fill(ADMIN[1])
    page.locator("#login_submit").click()
    page.wait_for_url(lambda address: "/login" not in address)


def new_chat(page: Page, url: str) -> None:
    """Open the landing page: a new conversation, created by its first message."""
    page.goto(url)
    page.locator("#landing_composer #composer").wait_for()


def send(page: Page, text: str) -> None:
    landing = "/chat/" not in page.url
    page.locator("#composer").fill(text)
    page.locator("#composer").press("Enter")
    if landing:
        page.wait_for_url("**/chat/**")


def ask(page: Page, text: str) -> None:
    """Send a message and wait for its whole answer."""
    answers = page.locator(".ak-assistant-item").count()
    send(page, text)
    expect(page.locator(".ak-assistant-item")).to_have_count(answers + 1)
    idle(page)


def idle(page: Page, timeout: float = 60_000) -> None:
    expect(page.locator("#stop_button")).to_be_hidden(timeout=timeout)


def shoot(page: Page, name: str) -> None:
    page.mouse.move(0, 0)  # no hover effects or tooltips in the picture
    page.wait_for_timeout(400)
    page.screenshot(path=str(OUT / name))
    print(f"saved {OUT / name}")


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        process, url = start_app(Path(data), Path(data) / "app.log", **ACCOUNTS)
        seed_accounts(url)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 820})
                page.set_default_timeout(30_000)
                sign_in(page, url)

                new_chat(page, url)
                page.locator("#starter_team").wait_for()
                page.locator("#composer").fill("Compare these two supplier offers and pick one")
                shoot(page, "landing.png")

                new_chat(page, url)
                send(page, "run `ls -la`")
                expect(page.locator("#confirm_dialog")).to_be_visible()
                shoot(page, "confirm.png")
                page.locator("#confirm_approve").click()
                idle(page)

                new_chat(page, url)
                ask(page, "what is (3 + 4) * 12?")
                send(page, "run `uname -sr`")
                page.locator("#confirm_approve").click()
                idle(page)
                shoot(page, "chat.png")
                chat_url = page.url

                new_chat(page, url)
                send(
                    page,
                    "@board:Strategist,Risk Officer,Customer Advocate rounds=2 should we open a second shop",
                )
                expect(page.locator(".ak-conclusion")).to_be_visible(timeout=120_000)
                idle(page)
                page.locator(".ak-speech").first.scroll_into_view_if_needed()
                shoot(page, "board.png")
                page.locator(".ak-board-start .ak-expert-filter[data-expert='Risk Officer']").click()
                expect(page.locator(".ak-speech:visible")).to_have_count(2)
                page.locator("#conversation").evaluate("el => el.scrollTo(0, 0)")
                page.locator(".ak-board-start").scroll_into_view_if_needed()
                shoot(page, "board-jump.png")
                page.locator(".ak-board-start .ak-filter-reset").click()

                page.locator("#share_button").click()
                page.locator("#share_public").click()
                page.locator("#share_create").click()
                shared_url = page.locator("#share_new_url").input_value()
                shoot(page, "share-dialog.png")
                page.keyboard.press("Escape")
                reader = browser.new_page(viewport={"width": 1280, "height": 820})  # nobody signed in
                reader.goto(shared_url)
                expect(reader.locator(".ak-conclusion")).to_be_visible()
                reader.locator(".ak-speech").first.scroll_into_view_if_needed()
                shoot(reader, "shared-board.png")
                reader.close()

                new_chat(page, url)
                send(page, "@team build a landing page for a bakery")
                expect(page.locator(".ak-synthesis")).to_be_visible(timeout=120_000)
                idle(page)
                shoot(page, "team.png")

                page.goto(chat_url)
                answer = page.locator(".ak-assistant-item").first
                answer.locator(".ak-thumb-down").click()
                page.locator("#feedback_comment_input").fill(
                    "Show the steps of the sum, not only the result."
                )
                shoot(page, "feedback.png")
                page.locator("#feedback_send").click()

                page.goto(f"{url}/admin")
                expect(page.locator("#admin_page")).to_contain_text("Engineering")
                shoot(page, "admin.png")

                page.locator(".ak-catalog-agent[data-name='coder'] .ak-catalog-edit").click()
                expect(page.locator("#catalog_system_prompt")).to_be_visible()
                shoot(page, "agent-editor.png")
                page.keyboard.press("Escape")

                phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
                sign_in(phone, url)
                phone.goto(chat_url)
                expect(phone.locator(".ak-bubble.ak-assistant").last).to_be_visible()
                shoot(phone, "phone.png")
                browser.close()
        finally:
            stop_app(process)


if __name__ == "__main__":
    main()
