"""The user's interface preferences: language (remembered in the browser) and the mobile drawer."""

from __future__ import annotations

import reflex as rx

from agentkit_app.engine.i18n import LANGUAGES


class PrefsState(rx.State):
    """UI language and layout toggles."""

    lang: str = rx.LocalStorage("en", name="agentkit_lang", sync=True)
    drawer_open: bool = False

    @rx.event
    def set_lang(self, lang: str) -> None:
        """Switch the UI language (en or zh)."""
        self.lang = lang if lang in LANGUAGES else "en"

    @rx.event
    def toggle_drawer(self) -> None:
        """Open or close the session list on narrow screens."""
        self.drawer_open = not self.drawer_open

    @rx.event
    def close_drawer(self) -> None:
        """Close the session list on narrow screens."""
        self.drawer_open = False
