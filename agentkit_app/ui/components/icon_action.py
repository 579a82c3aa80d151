"""A quiet icon button named by its tooltip: rename, sign out, the actions on a session row and on a message."""

from __future__ import annotations

import reflex as rx


def icon_action(
    icon: str | rx.Var, label: rx.Var, on_click: rx.event.EventSpec, icon_size: int = 14, **props
) -> rx.Component:
    """A small ghost icon button whose tooltip and accessible name are ``label``; ``props`` go to the button."""
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=icon_size),
            size="1",
            variant="ghost",
            on_click=on_click,
            aria_label=label,
            **props,
        ),
        content=label,
    )
