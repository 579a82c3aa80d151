"""The reader's interface preferences: language and time zone (both kept in the browser) and the mobile drawer."""

from __future__ import annotations

import re
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx

from agentkit_app.engine.i18n import LANGUAGES

TIME_ZONE_KEY = "agentkit_tz"
LANG_KEY = "agentkit_lang"
HTML_LANG = {"en": "en", "zh": "zh-CN"}


@lru_cache(maxsize=64)
def reader_zone(name: str) -> tzinfo | None:
    """Return the IANA time zone ``name`` (as a browser reports it), or None when it is not one."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}", name or "") or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class PrefsState(rx.State):
    """UI language and layout toggles."""

    lang: str = rx.LocalStorage("en", name=LANG_KEY, sync=True)
    # the browser's, e.g. Asia/Shanghai: sent when a page opens (see SessionsState.set_reader_zone) and
    # kept in the browser, so that the next visit has it from its first event
    time_zone: str = rx.LocalStorage("", name=TIME_ZONE_KEY)
    drawer_open: bool = False

    @rx.event
    def set_lang(self, lang: str) -> None:
        """Switch the UI language (en or zh)."""
        self.lang = lang if lang in LANGUAGES else "en"

    @rx.var
    def html_lang(self) -> str:
        """Return the ``<html lang>`` of the UI language (zh-CN or en)."""
        return HTML_LANG.get(self.lang, "en")

    @rx.event
    def toggle_drawer(self) -> None:
        """Open or close the session list on narrow screens."""
        self.drawer_open = not self.drawer_open

    @rx.event
    def close_drawer(self) -> None:
        """Close the session list on narrow screens."""
        self.drawer_open = False
