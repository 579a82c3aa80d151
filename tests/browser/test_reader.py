"""What each reader gets of the page: attachment previews, their own time zone, the page's language, and a
screen reader told of the answer once it is written."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from agentkit_app.store.db import make_engine
from agentkit_app.store.models import SessionRecord
from agentkit_app.ui.states.sessions import when_label
from tests.api.conftest import data_settings
from tests.browser.conftest import admin_headers, sign_in
from tests.browser.test_ui import send
from tests.document_fixtures import pdf_bytes

pytestmark = pytest.mark.browser
AHEAD, BEHIND = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14 and UTC-11: a day apart


def test_attachment_chips_preview_an_image_and_a_pdf_that_the_agent_then_reads(chat: Page, tmp_path):
    photo, memo = tmp_path / "photo.png", tmp_path / "memo.pdf"
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 120, 200)).save(out, "PNG")
    photo.write_bytes(out.getvalue())
    memo.write_bytes(pdf_bytes(["Board memo: budget approved", "Second page"]))
    chat.locator("#composer_upload input[type=file]").set_input_files([str(photo), str(memo)])
    image_chip = chat.locator(".ak-attachment[data-kind=image]")
    expect(image_chip).to_contain_text("photo.png")
    thumbnail = image_chip.locator("img.ak-attachment-thumb")
    expect(thumbnail).to_have_attribute("src", re.compile(r"^data:image/webp;base64,"))
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") == 96
    pdf_chip = chat.locator(".ak-attachment[data-kind=pdf]")
    expect(pdf_chip).to_contain_text("memo.pdf")
    expect(pdf_chip.locator(".ak-attachment-lines")).to_have_text("Board memo: budget approved\nSecond page")
    chat.locator(".ak-attachment[data-kind=image] button").click()  # removed again: only the PDF goes
    expect(chat.locator(".ak-attachment")).to_have_count(1)
    send(chat, "please read the attached file")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("Board memo: budget approved")


def _set_updated(app_data: Path, session_id: str, when: datetime) -> None:
    engine = make_engine(data_settings(app_data, "agentkit.db")["AGENTKIT_DATABASE_URL"])
    try:
        with engine.begin() as db:
            db.execute(
                update(SessionRecord).where(SessionRecord.session_id == session_id).values(updated_at=when)
            )
    finally:
        engine.dispose()


def _today_here_yesterday_there(now: datetime) -> datetime:
    """Return an instant that is today for one of the two readers and yesterday for the other."""
    for minutes in range(10, 48 * 60, 10):
        when = now - timedelta(minutes=minutes)
        groups = {when_label(when, now, ZoneInfo(zone))[0] for zone in (AHEAD, BEHIND)}
        if groups == {"group_today", "group_yesterday"}:
            return when
    raise AssertionError("two zones 25 hours apart always disagree about some instant")


def test_times_and_date_groups_are_the_readers_own(browser: Browser, app_url: str, app_data: Path):
    headers = admin_headers(app_url)
    for zone in (AHEAD, BEHIND):  # a session each: the other's answer and title would date it now
        session_id = httpx.post(
            f"{app_url}/api/v1/chat/sessions", json={"agent_name": "assistant"}, headers=headers
        ).json()["session_id"]
        now = datetime.now(UTC)
        when = _today_here_yesterday_there(now)
        _set_updated(app_data, session_id, when)
        context = browser.new_context(timezone_id=zone, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, app_url)
        page.goto(f"{app_url}/chat/{session_id}")
        group, clock = when_label(when, now, ZoneInfo(zone))
        row = page.locator(f".ak-session[data-session='{session_id}']")
        expect(row).to_contain_text(clock)
        heading = row.locator("xpath=preceding::*[contains(@class, 'ak-group')][1]")
        expect(heading).to_have_text("Today" if group == "group_today" else "Yesterday")
        send(page, "what is 2 + 2?")
        sent = datetime.now(ZoneInfo(zone))
        shown = page.locator(".ak-bubble.ak-user").last.locator("xpath=..").locator(".ak-time")
        minutes = {sent.strftime("%H:%M"), (sent - timedelta(minutes=1)).strftime("%H:%M")}
        expect(shown).to_have_text(re.compile("^(" + "|".join(minutes) + ")$"))
        context.close()


def test_the_page_language_follows_the_ui_language(chat: Page):
    html = chat.locator("html")
    expect(html).to_have_attribute("lang", "en")
    chat.locator("#lang_select").click()
    chat.get_by_role("option", name="中文").click()
    expect(html).to_have_attribute("lang", "zh-CN")
    chat.reload()
    expect(chat.locator("#send_button")).to_contain_text("发送")
    expect(html).to_have_attribute("lang", "zh-CN")
    chat.locator("#lang_select").click()
    chat.get_by_role("option", name="English").click()
    expect(html).to_have_attribute("lang", "en")


def test_a_screen_reader_hears_that_an_answer_is_written_then_the_answer_once(chat: Page):
    announcer = chat.locator("#answer_announcer")
    send(chat, "tell me a long story")  # the first message opens the conversation's page, and its announcer
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_attribute("role", "status")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("Once upon a time")
    expect(chat.locator("#conversation")).to_have_attribute("aria-busy", "true")
    expect(announcer).to_have_text("Writing the answer…")
    chat.wait_for_timeout(500)
    expect(announcer).to_have_text("Writing the answer…")  # the tokens are not read out one by one
    chat.locator("#stop_button").click()
    expect(chat.locator("#conversation")).to_have_attribute("aria-busy", "false")
    send(chat, "what is (3 + 4) * 12?")
    expect(announcer).to_contain_text("The result is 84")
    expect(chat.locator("#conversation")).to_have_attribute("aria-busy", "false")
