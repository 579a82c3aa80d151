"""The web UI's own text, and the one table it reads: the engine's entries and these, in English and Chinese.

The engine's table (:mod:`agentkit_app.engine.i18n`) keeps what the engine and the service say
(answers, refusals); what only the pages say lives in ``text.yaml`` beside this module, each key
once with its English and Chinese. The UI looks every key up in :data:`TEXT`, by :func:`tr` (a Var
that follows the UI language) or :func:`t` (a string).
"""

from __future__ import annotations

from pathlib import Path

import reflex as rx

from agentkit_app.engine import i18n as engine_i18n
from agentkit_app.service.errors import ServiceError
from agentkit_app.ui.states.prefs import PrefsState

TEXT_FILE = Path(__file__).with_name("text.yaml")

UI_TEXT: dict[str, dict[str, str]] = engine_i18n.load_text(TEXT_FILE)
TEXT: dict[str, dict[str, str]] = {**engine_i18n.TEXT, **UI_TEXT}


def t(key: str, language: str = "en", **values: object) -> str:
    """Return the text for a key in a language (English when the language is unknown)."""
    entry = TEXT[key]
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


def tr(key: str) -> rx.Var:
    """Return the text for ``key`` in the UI's current language."""
    entry = TEXT[key]
    return rx.cond(PrefsState.lang == "zh", entry["zh"], entry["en"])


def round_label(number: rx.Var | int, total: rx.Var | int | None = None) -> rx.Component:
    """ "Round 2" / "第 2 轮", or with the total "Round 2 of 5" / "第 2 / 5 轮"."""
    if total is None:
        return rx.cond(
            PrefsState.lang == "zh", rx.fragment("第 ", number, " 轮"), rx.fragment("Round ", number)
        )
    return rx.cond(
        PrefsState.lang == "zh",
        rx.fragment("第 ", number, " / ", total, " 轮"),
        rx.fragment("Round ", number, " of ", total),
    )


def error_text(exc: ServiceError, lang: str) -> str:
    """Return what the service refused, in ``lang`` when the error has an i18n entry (else its English message)."""
    lang = lang if lang in engine_i18n.LANGUAGES else "en"
    entry = TEXT.get(exc.key or "")
    if entry is None:
        return str(exc)
    params = dict(exc.params)
    if exc.key == "err_quota":  # the quota's kind and period, in words of the same language
        params["what"] = TEXT.get(f"quota_{params.get('quota_type')}", {}).get(lang, params.get("quota_type"))
        params["per"] = TEXT.get(f"period_{params.get('period')}", {}).get(lang, params.get("period"))
    try:
        return entry[lang].format(**params)
    except (KeyError, IndexError, ValueError):
        return str(exc)


async def refuse(state: rx.State, exc: ServiceError) -> rx.event.EventSpec:
    """Return the toast that tells the user, in their language, what the service refused."""
    lang = (await state.get_state(PrefsState)).lang
    return rx.toast.error(error_text(exc, lang))
