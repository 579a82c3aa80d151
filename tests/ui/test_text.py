"""The web UI's text table: read from its text.yaml, every key in every language, apart from the engine's keys."""

from __future__ import annotations

import string

from agentkit_app.engine import i18n as engine_i18n
from agentkit_app.ui.i18n import TEXT, UI_TEXT, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_ui_entry_has_each_language_with_the_same_values_to_fill_in():
    assert UI_TEXT
    for key, entry in UI_TEXT.items():
        assert set(entry) == set(engine_i18n.LANGUAGES), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_the_ui_table_adds_to_the_engines_and_shadows_none_of_it():
    assert not set(UI_TEXT) & set(engine_i18n.TEXT)
    assert TEXT.keys() == engine_i18n.TEXT.keys() | UI_TEXT.keys()
    assert t("too_many_files", "zh", n=5) == "一次最多 5 个文件"
    assert t("session_missing", "fr") == engine_i18n.t("session_missing")
