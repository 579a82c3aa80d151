"""Message times in the reader's own time zone: the server sends the instant, the browser writes the clock."""

from __future__ import annotations

import reflex as rx
from reflex.vars.function import FunctionStringVar

# Compiled into the bundle (no eval); "" for an empty or bad instant.
LOCAL_CLOCK_JS = (
    "((iso) => { const d = new Date(iso); if (!iso || isNaN(d)) return '';"
    " const two = (n) => String(n).padStart(2, '0'); return two(d.getHours()) + ':' + two(d.getMinutes()); })"
)


def local_time(moment: rx.Var) -> rx.Component:
    """The hour and minute of ``moment`` (ISO 8601) where the reader is, in a ``<time>`` element."""
    return rx.text(
        rx.el.time(FunctionStringVar.create(LOCAL_CLOCK_JS).call(moment).to(str), date_time=moment),
        size="1",
        color_scheme="gray",
        class_name="ak-time",
    )
