"""Take the README's screenshots (assets/docs/*.png) with headless Chromium on the offline demo model.

Run from the repository root after the tests' setup: ``python -m scripts.screenshots``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.server import CHROMIUM, CHROMIUM_FLAGS, ROOT, start_app, stop_app

OUT = ROOT / "assets" / "docs"


def new_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.locator("#welcome_new_chat").click()
    page.wait_for_url("**/chat/**")
    page.locator("#composer").wait_for()


def send(page: Page, text: str) -> None:
    page.locator("#composer").fill(text)
    page.locator("#composer").press("Enter")


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
        process, url = start_app(Path(data), Path(data) / "app.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 820})
                page.set_default_timeout(30_000)

                page.goto(url)
                page.locator("#starter_team").wait_for()
                shoot(page, "welcome.png")

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
                send(page, "@board:Strategist,Risk Officer,Customer Advocate rounds=2 should we open a second shop")
                expect(page.locator(".ak-conclusion")).to_be_visible(timeout=120_000)
                idle(page)
                page.locator(".ak-speech").first.scroll_into_view_if_needed()
                shoot(page, "board.png")

                new_chat(page, url)
                send(page, "@team build a landing page for a bakery")
                expect(page.locator(".ak-synthesis")).to_be_visible(timeout=120_000)
                idle(page)
                shoot(page, "team.png")

                phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
                phone.goto(chat_url)
                expect(phone.locator(".ak-bubble.ak-assistant").last).to_be_visible()
                shoot(phone, "phone.png")
                browser.close()
        finally:
            stop_app(process)


if __name__ == "__main__":
    main()
