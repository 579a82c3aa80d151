"""The catalog as the service keeps it: current in every process, and edited by admins.

:class:`CatalogDesk` is a base of ``ChatService``. A turn starts with :meth:`CatalogDesk.refresh_catalog`,
which costs a clock reading, and at most every :data:`REFRESH_EVERY_S` seconds one query of the
catalog's version: a change made in another process applies to the turns that start after that.
A change made here applies at once.

An agent that sessions use is never deleted (the change is refused): an admin hides it instead
(``enabled: false``). A hidden agent leaves the picker and takes no new session, while the sessions
bound to it keep answering with it as it is configured.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cached_property
from typing import TYPE_CHECKING

from agentkit_app.service.access import enabled_access
from agentkit_app.service.catalog import Catalog, build_catalog
from agentkit_app.service.catalog_rules import check_agent, check_delete, check_expert, check_template
from agentkit_app.store.catalog import (
    AgentFields,
    AgentPublic,
    CatalogEdit,
    CatalogSnapshot,
    CatalogStore,
    EntryKind,
    ExpertFields,
    ExpertPublic,
    TemplateFields,
    TemplatePublic,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from agentkit_app.engine.tools import ToolRegistry
    from agentkit_app.service.access import AccessControl, Principal
    from agentkit_app.service.turns import ServiceConfig
    from agentkit_app.store.sessions import SessionManager

# the shapes of the catalog, for the transports (the web UI and REST)
__all__ = [
    "AgentFields",
    "AgentPublic",
    "CatalogDesk",
    "CatalogSnapshot",
    "EntryKind",
    "ExpertFields",
    "ExpertPublic",
    "TemplateFields",
    "TemplatePublic",
]

log = logging.getLogger(__name__)
# how stale another process's change may be when a turn starts (seconds)
REFRESH_EVERY_S = 2.0


class CatalogDesk:
    """Keeps ``catalog`` current with the database's, and lets admins change it."""

    catalog: Catalog
    store: SessionManager
    tools: ToolRegistry
    config: ServiceConfig
    access: AccessControl | None
    _catalog_checked: float = float("-inf")

    @cached_property
    def catalog_store(self) -> CatalogStore:
        """Return the store of the catalog tables (in the sessions' database)."""
        return CatalogStore(self.store.engine)

    def seed_catalog_now(self) -> None:
        """Fill an empty database with the catalog in hand (the YAML file's), then take the database's (blocking)."""
        if self.catalog.snapshot is not None and self.catalog_store.seed_now(self.catalog.snapshot):
            log.info("catalog seeded from the defaults file")
        snapshot = self.catalog_store.snapshot_now()
        if snapshot is not None:
            self.catalog = build_catalog(snapshot, self.catalog.skills)
        self._catalog_checked = time.monotonic()

    async def refresh_catalog(self, *, force: bool = False) -> Catalog:
        """Return the catalog, first re-read if the database's changed (checked at most every couple of seconds).

        A database that cannot be read leaves the catalog as it was (logged): a turn goes on with it.
        """
        now = time.monotonic()
        if not force and now - self._catalog_checked < REFRESH_EVERY_S:
            return self.catalog
        self._catalog_checked = now
        try:
            held = self.catalog.snapshot.version if self.catalog.snapshot else None
            if await self.catalog_store.version() not in (None, held):
                snapshot = await self.catalog_store.snapshot()
                if snapshot is not None:
                    self.catalog = build_catalog(snapshot, self.catalog.skills)
        except Exception:
            log.exception("could not read the catalog's version; keeping the catalog in hand")
        return self.catalog

    async def catalog_listing(self, principal: Principal) -> CatalogSnapshot:
        """Return every agent (hidden ones too), expert and template, and the version (admins only)."""
        enabled_access(self.access).require_admin(principal)
        await self._seeded()
        snapshot = await self.catalog_store.snapshot()
        assert snapshot is not None, "seeded just above"
        return snapshot

    async def save_agent(
        self, principal: Principal, name: str, fields: AgentFields, *, create: bool
    ) -> AgentPublic:
        """Create (``create``) or change an agent; return it as stored.

        Raises:
            Forbidden, AccountsDisabled: not an admin. InvalidInput, Conflict, NotFound: see
                :func:`~agentkit_app.service.catalog_rules.check_agent`.
        """
        tools, models = self.tools.names(), self.config.models
        edit = await self._change(
            principal, lambda c: check_agent(c, name, fields, create=create, tools=tools, models=models)
        )
        assert isinstance(edit.put, AgentPublic)
        return edit.put

    async def save_expert(
        self, principal: Principal, name: str, fields: ExpertFields, *, create: bool
    ) -> ExpertPublic:
        """Create (``create``) or change an expert persona; return it as stored."""
        edit = await self._change(principal, lambda c: check_expert(c, name, fields, create=create))
        assert isinstance(edit.put, ExpertPublic)
        return edit.put

    async def save_template(
        self, principal: Principal, name: str, fields: TemplateFields, *, create: bool
    ) -> TemplatePublic:
        """Create (``create``) or change a board or team template; return it as stored."""
        edit = await self._change(principal, lambda c: check_template(c, name, fields, create=create))
        assert isinstance(edit.put, TemplatePublic)
        return edit.put

    async def delete_catalog_entry(self, principal: Principal, kind: EntryKind, name: str) -> None:
        """Delete an agent, expert or template; refused (Conflict) while something depends on it."""
        enabled_access(self.access).require_admin(principal)
        sessions = await self.catalog_store.sessions_using(name) if kind == "agent" else 0
        await self._change(principal, lambda c: check_delete(c, kind, name, sessions=sessions))

    async def _seeded(self) -> None:
        if await self.catalog_store.version() is None and self.catalog.snapshot is not None:
            await asyncio.to_thread(self.catalog_store.seed_now, self.catalog.snapshot)

    async def _change(
        self, principal: Principal, check: Callable[[CatalogSnapshot], CatalogEdit]
    ) -> CatalogEdit:
        """Apply the edit ``check`` returns (checked against the stored catalog), then use the new catalog here."""
        enabled_access(self.access).require_admin(principal)
        await self._seeded()
        done: list[CatalogEdit] = []

        def checked(snapshot: CatalogSnapshot) -> CatalogEdit:
            done.append(check(snapshot))
            return done[-1]

        await self.catalog_store.change(checked)
        log.info("catalog changed", extra={"kind": done[-1].kind, "entry": done[-1].name})
        await self.refresh_catalog(force=True)
        return done[-1]
