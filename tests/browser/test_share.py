"""Sharing a board discussion in a real browser: make a link, read it elsewhere without a composer, print it, revoke it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ADMIN
from tests.browser.test_ui import send

pytestmark = pytest.mark.browser


def test_a_shared_board_reads_like_the_owners_prints_cleanly_and_stops_when_revoked(
    chat: Page, browser: Browser, app_url: str
):
    send(chat, "@board:Strategist,Investor rounds=1 should we open a second shop")
    expect(chat.locator(".ak-conclusion")).to_be_visible(timeout=30_000)
    speeches = chat.locator(".ak-speech").count()

    chat.locator("#share_button").click()
    expect(chat.locator("#share_none")).to_be_visible()  # read when the dialog opens: none yet
    chat.locator("#share_public").click()
    chat.locator("#share_create").click()
    link = chat.locator("#share_new_url")
    expect(chat.locator("#share_links .ak-share-row")).to_have_count(1)
    url = link.input_value()
    assert url.startswith(f"{app_url}/share/")
    chat.locator("#share_close").click()

    # a visitor who never signed in, in a browser of their own
    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(url)
        expect(page.locator("#share_banner")).to_be_visible(timeout=20_000)
        expect(page.locator("#shared_title")).not_to_be_empty()
        expect(page.locator(".ak-board-start")).to_be_visible()
        expect(page.locator(".ak-speech")).to_have_count(speeches)
        expect(page.locator(".ak-conclusion")).to_be_visible()
        expect(page.locator("#composer")).to_have_count(0)
        expect(page.locator("#session_list")).to_have_count(0)
        expect(page.locator(".ak-thumb, #regenerate_button, .ak-edit")).to_have_count(0)

        page.emulate_media(media="print")
        expect(page.locator(".ak-header")).to_be_hidden()
        expect(page.locator("#share_print")).to_be_hidden()
        expect(page.locator(".ak-speech").first).to_be_visible()
        assert page.locator(".ak-speech").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
        # the whole conversation flows onto the pages: no scrolling box cuts it at one screen
        assert (
            page.locator("#shared_conversation").evaluate("e => getComputedStyle(e).overflowY") == "visible"
        )
        page.emulate_media(media="screen")

        # the owner's own page prints without the sidebar and the composer
        chat.emulate_media(media="print")
        expect(chat.locator("#composer")).to_be_hidden()
        expect(chat.locator("#session_list")).to_be_hidden()
        expect(chat.locator(".ak-conclusion")).to_be_visible()
        chat.emulate_media(media="screen")

        chat.locator("#share_button").click()
        chat.locator("#share_links .ak-share-revoke").click()
        expect(chat.locator("#share_none")).to_be_visible()

        page.reload()
        expect(page.locator("#share_missing")).to_be_visible(timeout=20_000)
        expect(page.locator(".ak-speech")).to_have_count(0)
    finally:
        visitor.close()


def test_a_link_for_signed_in_readers_asks_a_visitor_to_sign_in_and_comes_back(chat: Page, browser: Browser):
    send(chat, "what is 6 * 7?")
    expect(chat.locator(".ak-assistant-item").last).to_contain_text("42")
    chat.locator("#share_button").click()
    expect(chat.locator("#share_signed_in")).to_have_attribute("data-state", "checked")  # the default
    chat.locator("#share_create").click()
    url = chat.locator("#share_new_url").input_value()

    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(url)
        expect(page.locator("#share_sign_in")).to_be_visible(timeout=20_000)
        expect(page.locator(".ak-assistant-item")).to_have_count(0)
        page.locator("#share_sign_in_link").click()  # signed in, the reader comes back to the link
        page.locator("#login_username").fill(ADMIN[0])
        page.locator("#login_password").fill(ADMIN[1])
        page.locator("#login_submit").click()
        page.wait_for_url(url)
        expect(page.locator(".ak-assistant-item").last).to_contain_text("42", timeout=20_000)
    finally:
        visitor.close()
