"""The admin page's catalog editor: the agents, experts and templates listed, and one dialog to edit each."""

from __future__ import annotations

import reflex as rx

from agentkit_app.service.catalog_rules import (
    DESCRIPTION_CHARS,
    LABEL_CHARS,
    MODEL_CHARS,
    NAME_CHARS,
    PERSONA_CHARS,
    PROMPT_CHARS,
)
from agentkit_app.ui.components.board import expert_avatar
from agentkit_app.ui.i18n import tr
from agentkit_app.ui.states.catalog_admin import AgentRow, CatalogAdminState, ExpertRow, TemplateRow

S = CatalogAdminState


def _box(name: str, label: str, limit: int, *, area: bool = False, **props) -> rx.Component:
    """A labelled box of the dialog, kept in the state var ``name``."""
    widget = rx.text_area if area else rx.input
    return rx.vstack(
        rx.text(tr(label), size="1", weight="medium"),
        widget(
            value=getattr(S, name),
            on_change=lambda value: S.set_text(name, value),
            max_length=limit,
            id=f"catalog_{name}",
            width="100%",
            **props,
        ),
        spacing="1",
        width="100%",
    )


def _buttons(kind: str, row: rx.Var, on_edit: rx.EventHandler) -> rx.Component:
    return rx.hstack(
        rx.button(
            tr("catalog_edit"), size="1", variant="soft", on_click=on_edit(row), class_name="ak-catalog-edit"
        ),
        rx.button(
            tr("delete"),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=S.delete(kind, row.name),
            class_name="ak-catalog-delete",
        ),
        spacing="1",
    )


def agent_row(row: AgentRow) -> rx.Component:
    """One agent: its name and label, its tools, whether users can pick it."""
    return rx.table.row(
        rx.table.row_header_cell(
            rx.text(row.display_name, weight="medium"), rx.text(row.name, size="1", color_scheme="gray")
        ),
        rx.table.cell(rx.text(row.description, size="1"), max_width="24em"),
        rx.table.cell(
            rx.hstack(rx.foreach(row.tools, lambda x: rx.badge(x, variant="soft")), wrap="wrap", spacing="1")
        ),
        rx.table.cell(
            rx.cond(
                row.enabled,
                rx.badge(tr("catalog_shown"), color_scheme="green"),
                rx.badge(tr("catalog_hidden"), color_scheme="gray"),
            )
        ),
        rx.table.cell(_buttons("agent", row, S.open_agent)),
        class_name="ak-catalog-agent",
        data_name=row.name,
    )


def expert_row(row: ExpertRow) -> rx.Component:
    """One expert: avatar on its colour, name, role, whether it moderates boards."""
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                expert_avatar(row.avatar, row.color, "1.8em"),
                rx.text(row.name, weight="medium"),
                align="center",
            )
        ),
        rx.table.cell(rx.text(row.role, size="1")),
        rx.table.cell(rx.cond(row.is_moderator, rx.badge(tr("catalog_moderator"), color_scheme="indigo"))),
        rx.table.cell(_buttons("expert", row, S.open_expert)),
        class_name="ak-catalog-expert",
        data_name=row.name,
    )


def template_row(row: TemplateRow) -> rx.Component:
    """One template: board or team, its lead and members."""
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.name, weight="medium")),
        rx.table.cell(rx.badge(rx.cond(row.kind == "team", tr("catalog_team"), tr("catalog_board")))),
        rx.table.cell(rx.text(rx.cond(row.lead != "", row.lead + " → ", ""), row.members, size="1")),
        rx.table.cell(_buttons("template", row, S.open_template)),
        class_name="ak-catalog-template",
        data_name=row.name,
    )


def _agent_form() -> rx.Component:
    return rx.vstack(
        _box("display_name", "catalog_display_name", LABEL_CHARS),
        _box("description", "catalog_description", DESCRIPTION_CHARS),
        _box("system_prompt", "catalog_system_prompt", PROMPT_CHARS, area=True, rows="8"),
        _box("model", "catalog_model", MODEL_CHARS, placeholder=tr("catalog_model_default")),
        rx.text(tr("catalog_tools"), size="1", weight="medium"),
        rx.hstack(
            rx.foreach(
                S.tool_names,
                lambda tool: rx.checkbox(
                    tool,
                    checked=S.tools.contains(tool),
                    on_change=lambda _: S.toggle_tool(tool),
                    id="catalog_tool_" + tool,
                ),
            ),
            wrap="wrap",
            spacing="3",
        ),
        rx.checkbox(tr("catalog_enabled"), checked=S.enabled, on_change=S.set_enabled, id="catalog_enabled"),
        width="100%",
    )


def _expert_form() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            expert_avatar(S.avatar, S.color),
            _box("avatar", "catalog_avatar", 200, placeholder="🦉 /assets/…"),
            _box("color", "catalog_color", 7, placeholder="#6366f1"),
            align="end",
            width="100%",
        ),
        _box("role", "catalog_role", NAME_CHARS),
        _box("persona", "catalog_persona", PERSONA_CHARS, area=True, rows="6"),
        rx.checkbox(
            tr("catalog_moderator"),
            checked=S.is_moderator,
            on_change=S.set_moderator,
            id="catalog_is_moderator",
        ),
        width="100%",
    )


def _template_form() -> rx.Component:
    return rx.vstack(
        rx.select.root(
            rx.select.trigger(id="catalog_kind"),
            rx.select.content(
                rx.select.item(tr("catalog_board"), value="board"),
                rx.select.item(tr("catalog_team"), value="team"),
            ),
            value=S.kind,
            on_change=lambda value: S.set_text("kind", value),
        ),
        rx.cond(S.kind == "team", _box("lead", "catalog_lead", NAME_CHARS)),
        _box("members", "catalog_members", 1000, placeholder="Strategist, Engineer, Moderator"),
        width="100%",
    )


def editor_dialog() -> rx.Component:
    """The dialog that creates or edits one agent, expert or template; a refusal shows in it."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.creating, tr("catalog_new"), tr("catalog_edit")), " · ", S.name),
            rx.vstack(
                rx.cond(S.creating, _box("name", "catalog_name", NAME_CHARS)),
                rx.match(
                    S.editing,
                    ("agent", _agent_form()),
                    ("expert", _expert_form()),
                    ("template", _template_form()),
                    rx.fragment(),
                ),
                rx.cond(
                    S.error != "",
                    rx.callout(
                        S.error,
                        icon="triangle_alert",
                        color_scheme="red",
                        size="1",
                        width="100%",
                        id="catalog_error",
                    ),
                ),
                rx.hstack(
                    rx.button(tr("catalog_cancel"), variant="soft", color_scheme="gray", on_click=S.close),
                    rx.button(tr("catalog_save"), on_click=S.save, id="catalog_save"),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
            max_width="640px",
            id="catalog_dialog",
        ),
        open=S.editing != "",
        on_open_change=S.open_change,
    )


def _part(title: str, kind: str, rows: rx.Var, row, table_id: str) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        rx.hstack(
            rx.heading(tr(title), size="3"),
            rx.button(
                rx.icon("plus", size=14),
                tr("catalog_new"),
                size="1",
                variant="soft",
                on_click=S.open_new(kind),
                id=f"catalog_new_{kind}",
            ),
            align="center",
            justify="between",
            width="100%",
        ),
        rx.table.root(rx.table.body(rx.foreach(rows, row)), size="1", width="100%", id=table_id),
        width="100%",
        spacing="2",
    )


def catalog_section() -> rx.Component:
    """Agents, experts and templates, each with a New button and Edit / Delete on every row."""
    return rx.vstack(
        rx.heading(tr("admin_catalog"), size="5"),
        rx.text(tr("catalog_hint"), size="2", color_scheme="gray"),
        _part("catalog_agents", "agent", S.agents, agent_row, "catalog_agents"),
        _part("catalog_experts", "expert", S.experts, expert_row, "catalog_experts"),
        _part("catalog_templates", "template", S.templates, template_row, "catalog_templates"),
        editor_dialog(),
        width="100%",
        spacing="3",
        id="catalog_section",
    )
