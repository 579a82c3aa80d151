"""The web UI in a real browser, on the offline demo model: what a user sees and clicks."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.conftest import data_settings, set_server_state
from tests.api.test_team_resume import _half_run
from tests.browser.conftest import REDIS_PREFIX, admin_headers, sign_in

pytestmark = pytest.mark.browser


def send(page: Page, text: str) -> None:
    """Type a message and press Enter once Send is enabled (one chat answer streams at a time).

    On the landing page the message begins the conversation: this returns once its page is open.
    """
    expect(page.locator("#send_button")).to_be_enabled()
    landing = "/chat/" not in page.url
    type_and_enter(page, text)
    if landing:
        page.wait_for_url("**/chat/**")


def new_conversation(page: Page) -> str:
    """Leave this conversation for a new one (the landing page); return the id of the one left."""
    left = page.url.rsplit("/", 1)[-1]
    page.locator("#new_chat").click()
    page.wait_for_url(lambda url: "/chat/" not in url)
    page.locator("#landing_composer #composer").wait_for()
    return left


def type_and_enter(page: Page, text: str) -> None:
    page.locator("#composer").fill(text)
    page.locator("#composer").press("Enter")


def test_chat_streams_a_tool_answer_and_survives_a_reload(chat: Page):
    send(chat, "what is (3 + 4) * 12?")
    answer = chat.locator(".ak-bubble.ak-assistant").last
    expect(answer).to_contain_text("The result is 84")
    expect(chat.locator(".ak-step").first).to_contain_text("calculator")
    expect(chat.locator("#composer")).to_have_value("")
    expect(chat.locator(".ak-usage").last).to_contain_text("offline-demo")
    expect(chat.locator("#session_list")).to_contain_text("what is (3 + 4) * 12?")
    chat.reload()
    expect(chat.locator(".ak-bubble.ak-user").first).to_have_text("what is (3 + 4) * 12?")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("The result is 84")


NAMELESS_BUTTONS_JS = """() => [...document.querySelectorAll('button')]
    .filter(b => b.offsetParent !== null)
    .filter(b => !(b.getAttribute('aria-label') || b.getAttribute('title') || b.getAttribute('aria-labelledby')
                   || b.textContent.trim() || (b.closest('label') && b.closest('label').textContent.trim())))
    .map(b => b.outerHTML.slice(0, 120))"""


def test_every_button_says_what_it_does(chat: Page):
    send(chat, "what is 6 * 7?")
    expect(chat.locator("#regenerate_button")).to_be_visible()
    chat.locator(".ak-session").first.hover()
    nameless = chat.evaluate(NAMELESS_BUTTONS_JS)
    assert nameless == [], nameless


def test_shift_enter_makes_a_new_line_instead_of_sending(chat: Page):
    chat.locator("#composer").fill("first line")
    chat.locator("#composer").press("Shift+Enter")
    chat.locator("#composer").type("second line")
    expect(chat.locator("#composer")).to_have_value("first line\nsecond line")
    expect(chat.locator(".ak-bubble.ak-user")).to_have_count(0)


def test_dangerous_command_waits_for_approval_and_deny_is_respected(chat: Page):
    send(chat, "run `echo approved-output`")
    dialog = chat.locator("#confirm_dialog")
    expect(dialog).to_be_visible()
    expect(chat.locator("#confirm_command")).to_contain_text("echo approved-output")
    chat.locator("#confirm_approve").click()
    expect(dialog).to_be_hidden()
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("approved-output")
    send(chat, "run `echo never`")
    expect(dialog).to_be_visible()
    chat.locator("#confirm_deny").click()
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("You denied the command")


def test_the_agent_asks_a_question_and_reads_the_answer(chat: Page):
    send(chat, "please ask me something")
    expect(chat.locator("#question_text")).to_contain_text("What should I call you?")
    chat.locator("#answer_input").fill("Ada")
    chat.locator("#answer_send").click()
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("You answered: Ada")


def test_board_meeting_shows_speech_cards_and_restores_them_after_reload(chat: Page):
    send(chat, "@board:Strategist,Risk Officer rounds=2 should we open a second shop")
    expect(chat.locator(".ak-conclusion")).to_be_visible(timeout=30_000)
    expect(chat.locator(".ak-speech")).to_have_count(4)
    expect(chat.locator(".ak-summary")).to_have_count(2)
    expect(chat.locator(".ak-conclusion")).to_contain_text("Decision advice")
    expect(chat.locator(".ak-conclusion .ak-usage")).to_contain_text("offline-demo")  # the meeting's total
    expect(chat.locator("#session_list .ak-badge-board").first).to_be_visible()
    chat.reload()
    expect(chat.locator(".ak-speech")).to_have_count(4)
    expect(chat.locator(".ak-speech").first).to_contain_text("Strategist")
    expect(chat.locator(".ak-conclusion")).to_contain_text("Decision advice")
    expect(chat.locator(".ak-conclusion .ak-usage")).to_contain_text("offline-demo")
    expect(chat.locator(".ak-conclusion .ak-copy-answer")).to_be_visible()
    expect(chat.locator(".ak-round-link")).to_have_text(["Round 1", "Round 2"])
    chat.locator("#lang_select").click()
    chat.get_by_role("option", name="中文").click()
    expect(chat.locator(".ak-round-link")).to_have_text(["第 1 轮", "第 2 轮"])
    chat.locator("#lang_select").click()
    chat.get_by_role("option", name="English").click()


def test_team_run_shows_the_phase_timeline_and_the_result(chat: Page):
    send(chat, "@team build a landing page")
    expect(chat.locator(".ak-synthesis")).to_contain_text("Team result", timeout=30_000)
    phases = chat.locator(".ak-phase")
    expect(phases).to_have_count(3)  # dev_team: the lead plans, three members work
    for index in range(3):
        expect(phases.nth(index).locator(".ak-phase-status")).to_contain_text(re.compile("done|completed"))
    expect(chat.locator(".ak-synthesis .ak-usage")).to_contain_text("offline-demo")  # the run's total
    chat.reload()
    expect(chat.locator(".ak-phase")).to_have_count(3)
    expect(chat.locator(".ak-synthesis")).to_contain_text("Team result")
    expect(chat.locator(".ak-synthesis .ak-usage")).to_contain_text("offline-demo")


def test_language_switch_turns_the_interface_chinese(chat: Page):
    chat.locator("#lang_select").click()
    chat.get_by_role("option", name="中文").click()
    expect(chat.locator("#send_button")).to_contain_text("发送")
    expect(chat.locator("#demo_badge")).to_have_text("离线演示模型")
    chat.reload()
    expect(chat.locator("#send_button")).to_contain_text("发送")
    chat.locator("#lang_select").click()
    chat.get_by_role("option", name="English").click()
    expect(chat.locator("#send_button")).to_contain_text("Send")


def test_tokens_stream_in_and_stop_keeps_the_partial_answer(chat: Page):
    send(chat, "tell me a long story")
    bubble = chat.locator(".ak-bubble.ak-assistant").last
    expect(bubble).to_contain_text("Once upon a time")
    expect(chat.locator("#stop_button")).to_be_visible()
    type_and_enter(chat, "and another one")  # waits: one answer streams at a time
    expect(chat.locator("#send_button")).to_be_disabled()
    expect(chat.locator(".ak-bubble.ak-user")).to_have_count(1)
    first = len(bubble.inner_text())
    chat.wait_for_timeout(600)
    assert len(bubble.inner_text()) > first, "the answer should keep growing while it streams"
    chat.locator("#stop_button").click()
    expect(chat.locator(".ak-stopped").last).to_be_visible()
    expect(chat.locator("#stop_button")).to_be_hidden()
    stopped_at = len(bubble.inner_text())
    chat.wait_for_timeout(500)
    assert len(bubble.inner_text()) == stopped_at, "nothing may arrive after stop"
    assert stopped_at > 0
    expect(chat.locator("#composer")).to_have_value("and another one")  # the draft waited, kept
    expect(chat.locator("#send_button")).to_be_enabled()


def test_escape_stops_the_answer(chat: Page):
    send(chat, "tell me a long story")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("Once upon a time")
    chat.keyboard.press("Escape")
    expect(chat.locator(".ak-stopped").last).to_be_visible()
    expect(chat.locator("#stop_button")).to_be_hidden()


def test_attached_file_is_read_by_the_agent(chat: Page, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("alpha\nbeta\ngamma\n")
    chat.locator("#composer_upload input[type=file]").set_input_files(str(notes))
    expect(chat.locator(".ak-attachment")).to_contain_text("notes.txt")
    send(chat, "please read the attached file")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("The file has 3 lines")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("alpha")
    chat.reload()
    question = chat.locator(".ak-bubble.ak-user").first
    expect(question).to_contain_text("notes.txt")
    assert "[file:" not in question.inner_text(), "the file reference is for the model, not the bubble"


def test_a_starter_on_the_welcome_page_opens_a_conversation_and_asks(page: Page, app_url: str):
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    page.locator("#starter_board").wait_for()
    page.locator("#starter_tool").click()
    page.wait_for_url("**/chat/**")
    expect(page.locator(".ak-bubble.ak-user")).to_have_text(["what is (3 + 4) * 12?"])
    expect(page.locator(".ak-bubble.ak-assistant").last).to_contain_text("The result is 84")
    expect(page.locator("#composer")).to_have_value("")


def test_a_file_over_the_limit_is_refused_before_it_is_sent(chat: Page, tmp_path):
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(10 * 1024 * 1024 + 1)
    chat.locator("#composer_upload input[type=file]").set_input_files(str(big))
    expect(chat.get_by_text("big.bin: larger than the 10 MB upload limit")).to_be_visible()
    expect(chat.locator(".ak-attachment")).to_have_count(0)


def test_phone_width_has_no_horizontal_scroll(page: Page, app_url: str):
    page.set_viewport_size({"width": 375, "height": 740})
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    expect(page.locator("#send_button")).to_be_in_viewport()  # the landing page's composer
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    send(page, "hello there")
    expect(page.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    expect(page.locator("#send_button")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_refresh_mid_stream_keeps_streaming_to_the_same_answer(chat: Page):
    send(chat, "tell me a long story")
    bubble = chat.locator(".ak-bubble.ak-assistant").last
    expect(bubble).to_contain_text("Once upon a time")
    chat.reload()
    expect(chat.locator("#stop_button")).to_be_visible()
    expect(chat.locator(".ak-bubble.ak-user")).to_have_count(1)
    expect(chat.locator("#stop_button")).to_be_hidden(timeout=40_000)
    live = chat.locator(".ak-bubble.ak-assistant").last.inner_text()
    assert live.count("Once upon a time") == 10, "the whole story, streamed once, no restart"
    chat.reload()
    expect(chat.locator(".ak-bubble.ak-assistant")).to_have_count(1)
    assert chat.locator(".ak-bubble.ak-assistant").last.inner_text() == live


def test_export_downloads_a_file_naming_every_board_speaker(chat: Page):
    send(chat, "@board:Strategist,Investor rounds=1 raise prices")
    expect(chat.locator(".ak-conclusion")).to_be_visible(timeout=30_000)
    chat.locator("#export_button").click()
    with chat.expect_download() as info:
        chat.locator("#export_md").click()
    download = info.value
    assert download.suggested_filename.endswith(".md")
    text = open(download.path(), encoding="utf-8").read()
    assert "**Strategist**" in text and "**Investor**" in text and "raise prices" in text


def test_search_finds_a_message_and_opens_its_session(chat: Page):
    send(chat, "note for later: the password hint is periwinkle")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("periwinkle")
    new_conversation(chat)
    chat.keyboard.press("Control+K")
    expect(chat.locator("#search_input")).to_be_focused()
    chat.keyboard.type("periwinkle")
    hit = chat.locator(".ak-search-hit").first
    expect(hit).to_contain_text("periwinkle")
    hit.click()
    expect(chat.locator(".ak-bubble.ak-user").first).to_contain_text("the password hint is periwinkle")
    expect(chat.locator(".ak-flash")).to_have_count(1)
    chat.locator("#search_input").fill("")
    expect(chat.locator("#session_list")).to_be_visible()


def test_each_conversation_keeps_its_own_unsent_draft(chat: Page):
    send(chat, "hello, a first chat")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    first = chat.url
    chat.locator("#composer").fill("half a thought for the first chat")
    new_conversation(chat)
    expect(chat.locator("#composer")).to_have_value("")
    chat.locator("#composer").fill("something else")
    chat.locator(
        "#composer"
    ).blur()  # as leaving the box does: the text reaches the server now, not after the debounce
    chat.go_back()
    chat.wait_for_url(first)
    expect(chat.locator("#composer")).to_have_value("half a thought for the first chat")
    new_conversation(chat)  # the new conversation's draft waited too
    expect(chat.locator("#composer")).to_have_value("something else")


def test_pin_a_conversation_to_the_top(chat: Page):
    send(chat, "hello, pin me")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    sid = new_conversation(chat)
    send(chat, "hello, a newer one")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    row = chat.locator(f".ak-session[data-session='{sid}']")
    row.locator(".ak-pin-session").click()
    expect(chat.locator("#session_list .ak-group").first).to_have_text("Pinned")
    expect(chat.locator(".ak-session").first).to_have_attribute("data-session", sid)
    chat.reload()
    expect(chat.locator(".ak-session").first).to_have_attribute("data-session", sid)
    chat.locator(f".ak-session[data-session='{sid}'] .ak-pin-session").click()
    expect(chat.locator("#session_list .ak-group").first).not_to_have_text("Pinned")


def test_the_sidebar_shows_a_run_going_on_elsewhere_until_it_ends(chat: Page):
    send(chat, "@team write a changelog")
    expect(chat.locator(".ak-phase").first).to_be_visible()
    sid = new_conversation(chat)
    row = chat.locator(f".ak-session[data-session='{sid}']")
    expect(row.locator(".ak-busy")).to_be_visible()
    expect(row.locator(".ak-busy")).to_be_hidden(timeout=40_000)


def test_rename_a_conversation(chat: Page):
    send(chat, "hello there")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    chat.locator("#rename_button").click()
    chat.locator("#rename_input").fill("Greetings test")
    chat.locator("#rename_input").press("Enter")
    expect(chat.locator("#session_title")).to_have_text("Greetings test")
    expect(chat.locator("#session_list")).to_contain_text("Greetings test")
    expect(chat).to_have_title("Greetings test · AgentKit")
    chat.reload()
    expect(chat.locator("#session_title")).to_have_text("Greetings test")
    expect(chat).to_have_title("Greetings test · AgentKit")


def test_an_interrupted_team_run_offers_resume(page: Page, app_url: str, app_data: Path):
    run_id = uuid.uuid4().hex
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, _half_run(REDIS_PREFIX, run_id)).result()
    sid = httpx.post(
        f"{app_url}/api/v1/chat/sessions", json={"agent_name": "assistant"}, headers=admin_headers(app_url)
    ).json()["session_id"]
    database = data_settings(app_data, "agentkit.db")["AGENTKIT_DATABASE_URL"]
    with ThreadPoolExecutor(1) as pool:  # as a server that died mid-run leaves it
        pool.submit(
            set_server_state, database, sid, team_run={"run_id": run_id, "status": "running"}
        ).result()
    page.set_default_timeout(20_000)
    sign_in(page, app_url)
    page.goto(f"{app_url}/chat/{sid}")
    expect(page.locator("#interrupted_notice")).to_be_visible()
    page.locator("#resume_button").click()
    expect(page.locator(".ak-synthesis")).to_contain_text("Team result", timeout=30_000)
    expect(page.locator(".ak-team-note")).to_contain_text("resuming after 1 finished phase(s)")
    expect(page.locator("#interrupted_notice")).to_be_hidden()
    page.reload()
    expect(page.locator(".ak-synthesis")).to_contain_text("Team result")
    expect(page.locator(".ak-team-note")).to_contain_text("resuming after 1 finished phase(s)")
    expect(page.locator("#interrupted_notice")).to_be_hidden()


def test_regenerate_and_step_through_the_answers(chat: Page):
    send(chat, "what is 6 * 7?")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("42")
    chat.locator("#regenerate_button").click()
    expect(chat.locator(".ak-alt-label").last).to_have_text("2 / 2")
    expect(chat.locator(".ak-bubble.ak-assistant")).to_have_count(1)
    chat.locator(".ak-alt-prev").last.click()
    expect(chat.locator(".ak-alt-label").last).to_have_text("1 / 2")
    chat.reload()
    expect(chat.locator(".ak-alt-label").last).to_have_text("1 / 2")


def test_copy_an_answer_and_jump_back_to_the_latest_message(chat: Page):
    chat.context.grant_permissions(["clipboard-read", "clipboard-write"])
    chat.set_viewport_size({"width": 1000, "height": 520})
    expect(chat.locator(".ak-group").first).to_have_text("Today")
    for question, answer in (("what is 2 + 3?", "5"), ("what is 4 + 5?", "9"), ("what is 6 * 7?", "42")):
        send(chat, question)  # each waits for the answer before it: one answer streams at a time
        expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text(f"The result is {answer}.")
    chat.locator(".ak-copy-answer").last.click()
    expect(chat.get_by_text("Copied")).to_be_visible()
    assert "42" in chat.evaluate("navigator.clipboard.readText()")
    jump = chat.locator("#jump_latest")
    expect(jump).to_be_hidden()
    chat.locator("#conversation").evaluate("el => el.scrollTo(0, 0)")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    assert (
        chat.locator("#conversation").evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 80
    )


def test_edit_a_message_forks_and_the_old_branch_stays(chat: Page):
    send(chat, "what is 2 + 2?")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("4")
    send(chat, "what is 3 + 3?")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("6")
    chat.locator(".ak-user-item").nth(1).locator(".ak-edit").click()
    chat.locator("#edit_input").fill("what is 5 + 5?")
    chat.locator("#edit_save").click()
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("10")
    expect(chat.locator(".ak-bubble.ak-user")).to_have_count(2)
    expect(chat.locator(".ak-user-item").nth(1).locator(".ak-alt-label")).to_have_text("2 / 2")
    chat.locator(".ak-user-item").nth(1).locator(".ak-alt-prev").click()
    expect(chat.locator(".ak-bubble.ak-user").nth(1)).to_have_text("what is 3 + 3?")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_contain_text("6")


def test_a_message_during_a_team_run_reaches_the_next_phase(chat: Page):
    send(chat, "@team write release notes")
    expect(chat.locator(".ak-phase").first).to_be_visible()
    send(chat, "mention the dark theme")
    expect(chat.locator(".ak-phase .ak-intervention").first).to_contain_text(
        "mention the dark theme", timeout=30_000
    )
    expect(chat.locator(".ak-synthesis")).to_contain_text("Team result", timeout=30_000)
    chat.reload()
    expect(chat.locator(".ak-phase .ak-intervention").first).to_contain_text("mention the dark theme")


def test_archiving_the_open_conversation_returns_home_and_marks_it_closed(chat: Page):
    send(chat, "hello there, archive me")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    sid = chat.url.rsplit("/", 1)[-1]
    row = chat.locator(f".ak-session[data-session='{sid}']")
    row.locator(".ak-close-session").click()
    chat.wait_for_url(lambda url: "/chat/" not in url)
    expect(row).to_be_hidden()  # folded away under "Archived"
    chat.locator("#archived_toggle").click()
    expect(row).to_contain_text("closed")
    row.locator("a").click()
    chat.wait_for_url(f"**/chat/{sid}")
    expect(chat.locator("#composer")).to_be_disabled()
    expect(chat.locator(".ak-bubble.ak-user").first).to_contain_text("archive me")
    chat.locator("#restore_button").click()  # archived by mistake: bring it back
    expect(chat.locator("#composer")).to_be_enabled()
    expect(row).not_to_contain_text("closed")


def test_an_archived_conversation_can_be_deleted_for_good(chat: Page):
    send(chat, "hello there, delete me later")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    sid = chat.url.rsplit("/", 1)[-1]
    row = chat.locator(f".ak-session[data-session='{sid}']")
    row.locator(".ak-close-session").click()
    chat.wait_for_url(lambda url: "/chat/" not in url)
    chat.locator("#archived_toggle").click()
    row.locator(".ak-delete-session").click()
    expect(chat.get_by_text("Delete this conversation?")).to_be_visible()
    chat.locator("#delete_confirm").click()
    expect(row).to_have_count(0)
    chat.goto(chat.url.split("/chat")[0].rstrip("/") + f"/chat/{sid}")
    expect(chat.locator("#session_missing")).to_be_visible()


def test_plan_and_execute_shows_the_phases_of_the_answer(chat: Page):
    chat.locator("#plan_exec_switch").click()
    send(chat, "what is 6 * 7?")
    answer = chat.locator(".ak-assistant-item").last
    expect(answer.locator(".ak-bubble.ak-assistant")).to_contain_text("42", timeout=30_000)
    expect(answer.locator(".ak-mode-phase")).to_have_text(["plan", "execute", "verify", "answer"])
    expect(answer.locator(".ak-step")).to_contain_text(["calculator"])
    chat.reload()
    expect(chat.locator(".ak-assistant-item").last.locator(".ak-mode-phase")).to_have_count(4)


def test_sign_in_is_required_and_users_see_only_their_own_conversations(browser, app_url: str, chat: Page):
    send(chat, "an admin's private note")
    expect(chat.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    admin_sid = chat.url.rsplit("/", 1)[-1]
    headers = admin_headers(app_url)
    dept = httpx.post(
        f"{app_url}/api/v1/admin/departments", json={"name": f"sales-{uuid.uuid4().hex[:6]}"}, headers=headers
    ).json()
    httpx.put(f"{app_url}/api/v1/admin/departments/{dept['department_id']}/quotas",
              json=[{"quota_type": "requests", "period": "day", "limit": 1}], headers=headers).raise_for_status()  # fmt: skip
    name = f"ann-{uuid.uuid4().hex[:6]}"
    created = httpx.post(f"{app_url}/api/v1/admin/users", headers=headers,
                         json={"username": name, "password": "ann-password-1", "role": "user", "department_id": dept["department_id"]})  # fmt: skip
    assert created.status_code in (200, 201), created.text

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{app_url}/chat/{admin_sid}")
    page.wait_for_url("**/login")
    page.locator("#login_username").fill(name)
    page.locator("#login_password").fill("wrong password")
    page.locator("#login_submit").click()
    expect(page.locator("#login_error")).to_be_visible()
    sign_in(page, app_url, name, "ann-password-1")
    expect(page.locator("#signed_in_user")).to_contain_text(name)
    expect(page.locator("body")).not_to_contain_text("an admin's private note")
    page.goto(f"{app_url}/chat/{admin_sid}")
    expect(page.locator("#session_missing")).to_be_visible()
    new_conversation(page)
    send(page, "hello from ann")
    expect(page.locator(".ak-bubble.ak-assistant").last).to_be_visible()
    send(page, "one more please")
    expect(
        page.get_by_text("Quota exceeded: your department has used 1 of its 1 requests this day.")
    ).to_be_visible()
    expect(page.locator("#composer")).to_have_value("one more please")  # refused, not lost
    page.locator("#sign_out").click()
    page.wait_for_url("**/login")
    context.close()
