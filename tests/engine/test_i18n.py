"""The engine's text table: read from text.yaml, every key in every language, the same values to fill in."""

from __future__ import annotations

import string

import pytest

from agentkit_app.engine.i18n import LANGUAGES, TEXT, LocalizedError, load_text, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_entry_has_each_language_with_the_same_values_to_fill_in():
    assert TEXT
    for key, entry in TEXT.items():
        assert set(entry) == set(LANGUAGES), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_t_fills_in_values_and_falls_back_to_english():
    assert t("step_limit", "zh", n=3) == "已执行 3 个工具步骤，仍未得到最终答案，已停止。"
    assert t("step_limit", "fr", n=3) == "I stopped after 3 tool steps without a final answer."
    error = LocalizedError("unknown_experts", names="Ada")
    assert str(error) == "unknown experts: Ada"
    assert error.text("zh") == "未知的专家：Ada"


def test_a_table_entry_without_every_language_is_refused(tmp_path):
    path = tmp_path / "text.yaml"
    path.write_text("greeting:\n  en: Hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="greeting"):
        load_text(path)
    path.write_text("greeting:\n  en: Hello\n  zh: 你好\n", encoding="utf-8")
    assert load_text(path) == {"greeting": {"en": "Hello", "zh": "你好"}}
