"""Refusals of the service as the web UI says them: in the user's language, English for anything unknown."""

from __future__ import annotations

import re
from pathlib import Path

from agentkit_app.engine.i18n import TEXT
from agentkit_app.service.errors import InvalidInput, QuotaExceeded, ServiceError
from agentkit_app.ui.i18n import UI_TEXT, error_text

SERVICE = Path(__file__).resolve().parents[2] / "agentkit_app" / "service"


def test_a_quota_refusal_names_the_limit_in_words_of_the_language():
    exc = QuotaExceeded(
        {"department_id": "d1", "quota_type": "requests", "period": "day", "limit": 200, "current": 200}
    )
    assert error_text(exc, "en") == (
        "Quota exceeded: your department has used 200 of its 200 requests this day. An admin can raise the limit."
    )
    assert (
        error_text(exc, "zh")
        == "额度已用完：您所在部门本日的请求次数已用 200，上限 200。管理员可以提高上限。"
    )
    assert str(exc) == "quota exceeded", "API clients keep the reference's message"


def test_refusals_without_a_translation_keep_their_english_message():
    assert error_text(ServiceError("something odd"), "zh") == "something odd"
    assert error_text(InvalidInput("content longer than 5 characters", "err_too_long"), "zh") == (
        "content longer than 5 characters"
    ), "a text whose parameters are missing falls back rather than failing"
    assert (
        error_text(InvalidInput("x", "err_too_long", limit=5), "fr")
        == "The message is longer than 5 characters."
    )


def test_every_refusal_key_the_service_uses_has_both_languages():
    used = set()
    for path in SERVICE.rglob("*.py"):
        used |= set(
            re.findall(
                r'(?:Conflict|InvalidInput|NotFound|SessionClosed|QuotaCheckFailed)\(\s*f?"[^"]*",\s*"([a-z_]+)"',
                path.read_text(),
            )
        )
    assert {"err_busy", "err_quota_check", "session_missing"} <= used
    missing = [key for key in used if set(TEXT.get(key, {})) != {"en", "zh"}]
    assert missing == []


def test_the_ui_text_adds_to_the_engine_text_without_overriding_it():
    assert set(UI_TEXT).isdisjoint(TEXT)
    assert all(set(entry) == {"en", "zh"} for entry in UI_TEXT.values())
