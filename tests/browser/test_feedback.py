"""Thumbs up or down in a real browser: vote, comment, see it after a reload, and find it on the admin page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_ui import send

pytestmark = pytest.mark.browser


def test_vote_on_an_answer_with_a_comment_and_see_it_after_a_reload(chat: Page):
    send(chat, "what is 6 * 7?")
    answer = chat.locator(".ak-assistant-item").last
    expect(answer).to_contain_text("42")
    up, down = answer.locator(".ak-thumb-up"), answer.locator(".ak-thumb-down")
    down.click()
    expect(chat.locator("#feedback_dialog")).to_be_visible()  # a thumbs-down asks why
    chat.locator("#feedback_comment_input").fill("it should show the working")
    chat.locator("#feedback_send").click()
    expect(chat.locator("#feedback_dialog")).to_be_hidden()
    expect(down).to_have_attribute("aria-pressed", "true")

    chat.reload()
    answer = chat.locator(".ak-assistant-item").last
    up, down = answer.locator(".ak-thumb-up"), answer.locator(".ak-thumb-down")
    expect(down).to_have_attribute("aria-pressed", "true")
    answer.locator(".ak-feedback-comment").click()  # the comment is kept with the vote
    expect(chat.locator("#feedback_comment_input")).to_have_value("it should show the working")
    chat.locator("#feedback_skip").click()
    up.click()  # changing the vote replaces it, and a thumbs-up asks nothing
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(chat.locator("#feedback_dialog")).to_be_hidden()
    up.click()  # the same thumb again takes the vote back
    expect(up).to_have_attribute("aria-pressed", "false")
    chat.reload()
    expect(chat.locator(".ak-assistant-item").last.locator(".ak-thumb-up")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(chat.locator(".ak-user-item .ak-thumb")).to_have_count(0)  # the user's own messages are not rated


def test_a_rated_board_speech_is_listed_on_the_admin_page(chat: Page, app_url: str):
    send(chat, "@board:Strategist,Investor rounds=1 should we open a second shop")
    expect(chat.locator(".ak-conclusion")).to_be_visible(timeout=30_000)
    speech = chat.locator(".ak-speech").first
    speech.locator(".ak-thumb-down").click()  # rateable once the meeting has ended, without a reload
    chat.locator("#feedback_comment_input").fill("too vague about the costs")
    chat.locator("#feedback_send").click()
    expect(speech.locator(".ak-thumb-down")).to_have_attribute("aria-pressed", "true")
    chat.locator(".ak-conclusion .ak-thumb-up").click()
    expect(chat.locator(".ak-conclusion .ak-thumb-up")).to_have_attribute("aria-pressed", "true")
    speech_id = speech.get_attribute("id")

    chat.goto(f"{app_url}/admin")
    row = chat.locator(f'.ak-admin-feedback[data-message="{speech_id}"]')
    expect(row).to_contain_text("too vague about the costs")
    expect(row.locator(".ak-feedback-source")).to_have_text("Strategist")
    expect(chat.locator(".ak-feedback-tally-expert", has_text="Strategist")).to_have_text(
        "Strategist 👍 0 👎 1"
    )
    chat.locator("#feedback_filter_rating").click()
    chat.get_by_role("option", name="👍").click()
    expect(row).to_have_count(0)
    expect(chat.locator(".ak-admin-feedback").first).to_be_visible()  # the conclusion's thumbs-up
    chat.locator("#feedback_filter_rating").click()
    chat.get_by_role("option", name="All ratings").click()
    chat.locator("#feedback_filter_expert").click()
    chat.get_by_role("option", name="Strategist").click()
    expect(row).to_be_visible()
    expect(chat.locator(".ak-admin-feedback")).to_have_count(1)
