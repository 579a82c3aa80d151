"""A table of items with a heading per column: the admin page's lists and the tokens tables."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from agentkit_app.ui.i18n import tr


def listing(columns: tuple[str, ...], rows: rx.Var, row: Callable, table_id: str) -> rx.Component:
    """A table with a heading per column (an i18n key, or "" for none) and a row per item of ``rows``."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(tr(c) if c else "") for c in columns])),
        rx.table.body(rx.foreach(rows, row)),
        size="1",
        width="100%",
        id=table_id,
    )
