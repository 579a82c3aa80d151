"""Text of the i18n table as Vars that follow the UI language."""

from __future__ import annotations

import reflex as rx

from agentkit_app.engine.i18n import TEXT
from agentkit_app.ui.states.prefs import PrefsState


def tr(key: str) -> rx.Var:
    """Return the text for ``key`` in the UI's current language."""
    entry = TEXT[key]
    return rx.cond(PrefsState.lang == "zh", entry["zh"], entry["en"])
