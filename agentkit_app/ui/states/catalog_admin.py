"""The admin page's catalog editor: agents, expert personas, board and team templates.

It calls the service in-process, as the admin REST routes do; the service checks every edit (see
:mod:`agentkit_app.service.catalog_rules`). A refused edit keeps the dialog open with the reason in
the UI's language; a done one applies to the next turn of every user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from agentkit_app.service.catalog_admin import (
    AgentFields,
    CatalogSnapshot,
    EntryKind,
    ExpertFields,
    TemplateFields,
)
from agentkit_app.service.errors import AccountsDisabled, ServiceError
from agentkit_app.service.runtime import get_service
from agentkit_app.ui.i18n import error_text, t
from agentkit_app.ui.states.auth import AdminRequired, guarded, signed_in
from agentkit_app.ui.states.prefs import PrefsState

# the boxes of the dialog that hold text, each kept in the state var of its name
TEXT_FIELDS = (
    "name",
    "display_name",
    "description",
    "system_prompt",
    "model",
    "avatar",
    "color",
    "persona",
    "role",
    "kind",
    "lead",
    "members",
)
KINDS: tuple[EntryKind, ...] = ("agent", "expert", "template")


@dataclass
class AgentRow:
    """An agent as the editor lists it."""

    name: str = ""
    display_name: str = ""
    description: str = ""
    system_prompt: str = ""
    model: str = ""
    tools: list[str] = field(default_factory=list)
    enabled: bool = True


@dataclass
class ExpertRow:
    """An expert persona as the editor lists it (``picture``: the avatar is a picture's path)."""

    name: str = ""
    avatar: str = ""
    color: str = ""
    persona: str = ""
    role: str = ""
    is_moderator: bool = False
    picture: bool = False


@dataclass
class TemplateRow:
    """A board or team template: its lead (teams) and members, comma-separated."""

    name: str = ""
    kind: str = ""
    lead: str = ""
    members: str = ""


class CatalogAdminState(rx.State):
    """The catalog shown, and the one entry being created or edited in the dialog."""

    agents: list[AgentRow] = []
    experts: list[ExpertRow] = []
    templates: list[TemplateRow] = []
    tool_names: list[str] = []
    editing: str = ""  # "agent", "expert", "template"; "" while the dialog is closed
    creating: bool = False
    error: str = ""
    name: str = ""
    display_name: str = ""
    description: str = ""
    system_prompt: str = ""
    model: str = ""
    tools: list[str] = []
    enabled: bool = True
    avatar: str = ""
    color: str = ""
    persona: str = ""
    role: str = ""
    is_moderator: bool = False
    kind: str = "board"
    lead: str = ""
    members: str = ""

    def _show(self, catalog: CatalogSnapshot) -> None:
        self.agents = [
            AgentRow(
                a.name, a.display_name, a.description, a.system_prompt, a.model or "", a.tools, a.enabled
            )
            for a in catalog.agents
        ]
        self.experts = [
            ExpertRow(e.name, e.avatar, e.color, e.persona, e.role, e.is_moderator, e.avatar.startswith("/"))
            for e in catalog.experts
        ]
        self.templates = [
            TemplateRow(x.name, x.kind, x.lead or "", ", ".join(x.experts)) for x in catalog.templates
        ]

    async def _admin(self):  # type: ignore[no-untyped-def]
        try:
            return await signed_in(self, admin=True)
        except AccountsDisabled as exc:
            raise AdminRequired from exc

    @rx.event
    @guarded
    async def load(self):
        """On opening the admin page: the catalog as it is now, and the tools an agent may be given."""
        principal = await self._admin()
        service = get_service()
        self.tool_names = service.tools.names()
        self._show(await service.catalog_listing(principal))

    def _blank(self, kind: str, *, creating: bool) -> None:
        self.editing, self.creating, self.error = kind, creating, ""
        for name in TEXT_FIELDS:
            setattr(self, name, "")
        self.tools, self.enabled, self.is_moderator, self.kind = [], True, False, "board"
        self.color = "#6366f1" if kind == "expert" else ""

    @rx.event
    def open_new(self, kind: str):
        """Open the dialog on a new, empty agent, expert or template."""
        if kind in KINDS:
            self._blank(kind, creating=True)

    @rx.event
    def open_agent(self, row: dict):
        """Open the dialog on an agent of the list."""
        self._blank("agent", creating=False)
        self.name, self.display_name = str(row["name"]), str(row["display_name"])
        self.description, self.system_prompt = str(row["description"]), str(row["system_prompt"])
        self.model, self.tools, self.enabled = str(row["model"]), list(row["tools"]), bool(row["enabled"])

    @rx.event
    def open_expert(self, row: dict):
        """Open the dialog on an expert of the list."""
        self._blank("expert", creating=False)
        self.name, self.avatar, self.color = str(row["name"]), str(row["avatar"]), str(row["color"])
        self.persona, self.role, self.is_moderator = (
            str(row["persona"]),
            str(row["role"]),
            bool(row["is_moderator"]),
        )

    @rx.event
    def open_template(self, row: dict):
        """Open the dialog on a template of the list."""
        self._blank("template", creating=False)
        self.name, self.kind, self.lead, self.members = (
            str(row[k]) for k in ("name", "kind", "lead", "members")
        )

    @rx.event
    def close(self):
        """Close the dialog without saving."""
        self.editing, self.error = "", ""

    @rx.event
    def open_change(self, is_open: bool):
        """Close the dialog when it is dismissed (Escape, a click outside)."""
        if not is_open:
            self.editing, self.error = "", ""

    @rx.event
    def set_text(self, name: str, value: str):
        """Keep what was typed in one of the dialog's boxes (one of :data:`TEXT_FIELDS`)."""
        if name in TEXT_FIELDS:
            setattr(self, name, value)

    @rx.event
    def toggle_tool(self, tool: str):
        """Give the agent a tool, or take it away."""
        self.tools = [x for x in self.tools if x != tool] if tool in self.tools else [*self.tools, tool]

    @rx.event
    def set_enabled(self, value: bool):
        """Offer the agent in the picker, or hide it."""
        self.enabled = bool(value)

    @rx.event
    def set_moderator(self, value: bool):
        """Make the expert a moderator of boards, or not."""
        self.is_moderator = bool(value)

    @rx.event
    @guarded
    async def save(self):
        """Store the entry of the dialog; a refusal stays in the dialog, saying why."""
        principal = await self._admin()
        service = get_service()
        try:
            if self.editing == "agent":
                agent = AgentFields(
                    display_name=self.display_name,
                    description=self.description,
                    system_prompt=self.system_prompt,
                    model=self.model or None,
                    tools=self.tools,
                    enabled=self.enabled,
                )
                await service.save_agent(principal, self.name, agent, create=self.creating)
            elif self.editing == "expert":
                expert = ExpertFields(
                    avatar=self.avatar,
                    color=self.color,
                    persona=self.persona,
                    role=self.role,
                    is_moderator=self.is_moderator,
                )
                await service.save_expert(principal, self.name, expert, create=self.creating)
            elif self.editing == "template":
                members = [m.strip() for m in self.members.split(",") if m.strip()]
                kind = "team" if self.kind == "team" else "board"
                template = TemplateFields(kind=kind, lead=self.lead or None, experts=members)
                await service.save_template(principal, self.name, template, create=self.creating)
            else:
                return
        except ServiceError as exc:
            self.error = error_text(exc, (await self.get_state(PrefsState)).lang)
            return
        self.editing, self.error = "", ""
        self._show(await service.catalog_listing(principal))
        return rx.toast.success(t("catalog_saved", (await self.get_state(PrefsState)).lang))

    @rx.event
    @guarded
    async def delete(self, kind: str, name: str):
        """Delete an entry; one something depends on is refused in a toast that says what."""
        if kind not in KINDS:
            return
        principal = await self._admin()
        service = get_service()
        await service.delete_catalog_entry(principal, kind, name)  # type: ignore[arg-type]
        self._show(await service.catalog_listing(principal))
