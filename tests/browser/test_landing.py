"""The landing page is a new conversation; a long board meeting has a jump list and a filter by expert."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from bench.restore import EXPERTS, ROUNDS, seed_board
from tests.browser.conftest import admin_headers, sign_in
from tests.browser.test_ui import send

pytestmark = pytest.mark.browser


def session_ids(app_url: str) -> list[str]:
    """Return the ids of the newest sessions, newest first, as the REST API lists them to an admin."""
    listed = httpx.get(f"{app_url}/api/v1/chat/sessions?limit=200", headers=admin_headers(app_url))
    listed.raise_for_status()
    return [s["session_id"] for s in listed.json()]


def test_type_on_the_landing_page_and_the_first_message_begins_the_conversation(page: Page, app_url: str):
    page.set_default_timeout(20_000)
    before = session_ids(app_url)
    sign_in(page, app_url)
    composer = page.locator("#landing_composer #composer")
    expect(composer).to_be_focused()  # type at once
    page.reload()
    page.goto(f"{app_url}/settings/tokens")
    page.locator("#new_chat").click()
    page.wait_for_url(f"{app_url}/")
    expect(composer).to_be_visible()
    assert session_ids(app_url) == before, "looking is free: no empty session is left behind"

    page.locator("#agent_select").click()
    page.get_by_role("option", name="Coding assistant").click()
    composer.fill("tell me a long story")
    composer.press("Enter")
    page.wait_for_url("**/chat/**")
    sid = page.url.rsplit("/", 1)[-1]
    expect(page.locator(".ak-bubble.ak-user")).to_have_text(["tell me a long story"])
    expect(page.locator("#stop_button")).to_be_visible()  # the answer is still streaming in
    expect(page.locator(".ak-bubble.ak-assistant").last).to_contain_text("Once upon a time")
    expect(page.locator(f".ak-session[data-session='{sid}']")).to_be_visible()
    after = session_ids(app_url)
    assert after[0] == sid and after[1:] == before[: len(after) - 1]
    session = httpx.get(f"{app_url}/api/v1/chat/sessions/{sid}", headers=admin_headers(app_url)).json()
    assert session["agent_name"] == "coder"
    page.locator("#stop_button").click()
    expect(page.locator("#stop_button")).to_be_hidden()


def test_an_empty_message_on_the_landing_page_creates_nothing(page: Page, app_url: str):
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    before = session_ids(app_url)
    page.locator("#landing_composer #composer").fill("   ")
    page.locator("#landing_composer #composer").press("Enter")
    page.locator("#send_button").click()
    page.wait_for_timeout(500)
    assert "/chat/" not in page.url
    assert session_ids(app_url) == before


def _seed_board(app_data: Path) -> str:
    """Hold a 30-card board meeting (five experts, five rounds) straight in the app's database."""
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        return pool.submit(
            asyncio.run, seed_board(f"sqlite:///{app_data / 'agentkit.db'}", app_data)
        ).result()


def test_the_jump_list_of_a_restored_30_card_board_scrolls_to_a_round_and_filters_by_expert(
    page: Page, app_url: str, app_data: Path
):
    sid = _seed_board(app_data)
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    page.goto(f"{app_url}/chat/{sid}")
    speeches = page.locator(".ak-speech")
    expect(speeches).to_have_count(len(EXPERTS) * ROUNDS)
    expect(page.locator(".ak-summary")).to_have_count(ROUNDS)
    links = page.locator(".ak-board-start .ak-round-link")
    expect(links).to_have_text([f"Round {n}" for n in range(1, ROUNDS + 1)])

    round3 = page.locator("#board-1-round-3")
    page.locator("#conversation").evaluate("el => el.scrollTo(0, 0)")
    expect(round3).not_to_be_in_viewport()
    links.nth(2).click()
    expect(round3).to_be_in_viewport()
    expect(round3).to_be_focused()  # a keyboard user goes on reading from there
    top = page.locator("#conversation").bounding_box()["y"]
    assert abs(round3.bounding_box()["y"] - top) < 40, "round 3 opens at the top of the conversation"
    first_of_round = speeches.nth(len(EXPERTS) * 2)
    expect(first_of_round).to_be_in_viewport()
    page.wait_for_timeout(1200)  # the conversation's follow-the-bottom does not pull it back
    expect(round3).to_be_in_viewport()

    page.locator(".ak-board-start .ak-jump-conclusion").click()
    expect(page.locator(".ak-conclusion")).to_be_in_viewport()

    investor = page.locator(".ak-board-start .ak-expert-filter[data-expert='Investor']")
    investor.focus()
    page.keyboard.press("Enter")
    expect(investor).to_have_attribute("aria-pressed", "true")
    shown = page.locator(".ak-speech:visible")
    expect(shown).to_have_count(ROUNDS)
    assert set(shown.evaluate_all("els => els.map(e => e.dataset.expert)")) == {"Investor"}
    expect(page.locator(".ak-summary:visible")).to_have_count(0)
    expect(page.locator(".ak-round:visible")).to_have_count(ROUNDS)
    expect(page.locator(".ak-conclusion")).to_be_visible()
    expect(page.locator("#board-1-round-4 .ak-filter-note")).to_have_text("Showing only Investor")
    page.locator("#board-1-round-4 .ak-round-reset").click()  # reset from deep in the discussion
    expect(shown).to_have_count(len(EXPERTS) * ROUNDS)
    expect(investor).to_have_attribute("aria-pressed", "false")
    expect(page.locator(".ak-filter-note")).to_have_count(0)

    investor.click()
    expect(shown).to_have_count(ROUNDS)
    investor.click()  # pressed again: everyone again
    expect(shown).to_have_count(len(EXPERTS) * ROUNDS)


def test_a_live_board_can_be_narrowed_to_one_expert_while_it_speaks(chat: Page):
    send(chat, "@board:Strategist,Risk Officer rounds=2 should we open a second shop")
    expect(chat.locator(".ak-speech").first).to_be_visible()
    chat.locator(".ak-board-start .ak-expert-filter[data-expert='Risk Officer']").click()
    expect(chat.locator(".ak-conclusion")).to_be_visible(timeout=30_000)
    expect(chat.locator(".ak-speech")).to_have_count(4)
    shown = chat.locator(".ak-speech:visible")
    expect(shown).to_have_count(2)
    assert set(shown.evaluate_all("els => els.map(e => e.dataset.expert)")) == {"Risk Officer"}
    chat.locator(".ak-board-start .ak-round-link").first.click()
    expect(chat.locator("#board-1-round-1")).to_be_in_viewport()
    chat.locator(".ak-board-start .ak-filter-reset").click()
    expect(shown).to_have_count(4)
    chat.locator(".ak-board-start .ak-expert-filter[data-expert='Strategist']").click()
    expect(shown).to_have_count(2)
    chat.locator("#new_chat").click()  # another conversation opens with every expert shown
    chat.wait_for_url(lambda url: "/chat/" not in url)
    chat.go_back()
    expect(chat.locator(".ak-board-start")).to_be_visible()
    expect(shown).to_have_count(4)


def test_a_new_conversation_can_begin_while_another_is_still_answering(chat: Page):
    send(chat, "tell me a long story")
    expect(chat.locator("#stop_button")).to_be_visible()
    streaming = chat.url
    chat.locator("#new_chat").click()
    chat.wait_for_url(lambda url: "/chat/" not in url)
    expect(chat.locator("#stop_button")).to_have_count(0)
    send(chat, "what is 2 + 2?")
    assert chat.url != streaming
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("The result is 4.")
    chat.goto(streaming)
    chat.locator("#stop_button").click()
