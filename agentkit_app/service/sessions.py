"""What the service does to sessions themselves: create, rename, pin, close, delete, switch branches.

:class:`SessionCommands` is a base of ``ChatService``, next to :class:`ConversationReads`: the commands
that change a session without starting a run. Starting runs (turns, regenerations, edits, a team
resumed) stays with ``ChatService``, which admits, launches and bills them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from agentkit_app.engine.tools.sandbox import remove_session_scratch
from agentkit_app.service.errors import Conflict, InvalidInput, NotFound, SessionClosed

if TYPE_CHECKING:
    from agentkit_app.engine.ports import CheckpointStore
    from agentkit_app.service.access import Principal
    from agentkit_app.service.catalog import Catalog
    from agentkit_app.service.runs import RunRegistry
    from agentkit_app.service.turns import ServiceConfig
    from agentkit_app.store.models import MessagePublic, SessionPublic
    from agentkit_app.store.sessions import SessionManager

__all__ = ["MAX_METADATA_BYTES", "MAX_TITLE_CHARS", "SessionCommands"]

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 200
MAX_METADATA_BYTES = 16_384  # a client's session metadata, as JSON


class SessionCommands:
    """The commands on a session that start no run; each checks that ``principal`` may see the session."""

    store: SessionManager
    catalog: Catalog
    config: ServiceConfig
    runs: RunRegistry
    checkpoints: CheckpointStore

    if TYPE_CHECKING:

        async def refresh_catalog(self, *, force: bool = False) -> Catalog:
            """Return the catalog, first re-read if the database's changed."""

    async def session_or_404(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
        """Return the session, or raise NotFound (also when it is not ``principal``'s to see)."""
        return visible_or_404(await self.store.get_session(session_id), principal)

    async def create_session(
        self, agent_name: str, metadata: dict[str, Any] | None = None, principal: Principal | None = None
    ) -> SessionPublic:
        """Create a session bound to a known agent, owned by ``principal``'s user if any.

        ``metadata`` is the client's own (kept as given, at most 16 KiB of JSON); nothing the server
        decides on is read from it.
        """
        if agent_name not in {a.name for a in (await self.refresh_catalog()).choices()}:
            raise NotFound(f"unknown agent: {agent_name}")
        if metadata and len(json.dumps(metadata, default=str)) > MAX_METADATA_BYTES:
            raise InvalidInput(f"metadata larger than {MAX_METADATA_BYTES} bytes of JSON")
        owner = principal.user_id if principal else None
        return await self.store.create_session(agent_name=agent_name, metadata=metadata or {}, user_id=owner)

    async def update_session(
        self,
        session_id: str,
        *,
        title: str | None = None,
        pinned: bool | None = None,
        status: str | None = None,
        principal: Principal | None = None,
    ) -> SessionPublic:
        """Rename a session (a name a user gave is never replaced by a generated one), pin it, or restore it.

        ``status="active"`` restores an archived session (closing is :meth:`close_session`). Pinning
        alone keeps the session's place in time (``updated_at``).
        """
        await self.session_or_404(session_id, principal)
        if status not in (None, "active"):
            raise InvalidInput("status can only be set back to active: DELETE closes a session")
        state: dict[str, Any] = {}
        if title is not None:
            title = " ".join(title.split())
            if not title:
                raise InvalidInput("title must not be blank", "err_title_blank")
            if len(title) > MAX_TITLE_CHARS:
                raise InvalidInput(
                    f"title longer than {MAX_TITLE_CHARS} characters", "err_title_long", limit=MAX_TITLE_CHARS
                )
            state["title_source"] = "user"
        if pinned is not None:
            state["pinned"] = bool(pinned)
        if not state and status is None:
            raise InvalidInput("nothing to change: give a title, pinned or status")
        updated = await self.store.update_session(
            session_id,
            title=title,
            server_state=state,
            status=status,
            touch=title is not None or status is not None,
        )
        if updated is None:
            raise NotFound("session not found", "session_missing")
        return updated

    async def close_session(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
        """Close a session and stop what runs in it."""
        await self.session_or_404(session_id, principal)
        await self.runs.cancel(session_id)
        closed = await self.store.close_session(session_id)
        assert closed is not None
        return closed

    async def delete_session(self, session_id: str, principal: Principal | None = None) -> None:
        """Delete a session for good: its messages, search entries and team checkpoint (the usage ledger stays).

        Raises:
            NotFound: unknown session, or not ``principal``'s.
            Conflict: an answer, board meeting or team run is still being written in it.
        """
        session = await self.session_or_404(session_id, principal)
        if await self.runs.busy(session_id):
            raise Conflict(
                "an answer is still running in this session: wait for it or stop it first", "err_busy"
            )
        team_run = session.server_state.get("team_run")
        if isinstance(team_run, dict) and team_run.get("run_id"):
            try:
                await self.checkpoints.delete(str(team_run["run_id"]))
            except Exception:  # the checkpoint expires by its TTL anyway
                log.exception("could not delete the team checkpoint of session %s", session_id)
        if not await self.store.delete_session(session_id):
            raise NotFound("session not found", "session_missing")
        try:
            await asyncio.to_thread(remove_session_scratch, self.config.tool_context.scratch_dir, session_id)
        except OSError:
            log.exception("could not remove the scratch directory of session %s", session_id)

    async def interrupted_team(self, session: SessionPublic) -> dict[str, Any] | None:
        """Return the session's ``team_run`` state if that run is marked running but no process runs it.

        That is a team run whose process died (a server restart): :meth:`resume_team` continues it.
        """
        team_run = session.server_state.get("team_run")
        if not isinstance(team_run, dict) or team_run.get("status") != "running":
            return None
        if any(run.kind == "team" for run in await self.runs.of_session(session.session_id)):
            return None
        return dict(team_run)

    async def _idle_session(self, session_id: str, principal: Principal | None = None) -> SessionPublic:
        session = await self.session_or_404(session_id, principal)
        if session.status != "active":
            raise SessionClosed("session is closed", "session_closed")
        if await self.runs.busy(session_id):
            raise Conflict(
                "an answer is still running in this session: wait for it or stop it first", "err_busy"
            )
        return session

    async def switch_branch(
        self, session_id: str, message_id: str, principal: Principal | None = None
    ) -> list[MessagePublic]:
        """Show the branch through ``message_id`` (an alternative answer or edit); return its messages."""
        await self._idle_session(session_id, principal)
        try:
            await self.store.switch_branch(session_id, message_id)
        except KeyError:
            raise NotFound("unknown message") from None
        return await self.store.get_messages(session_id)

    async def cancel(self, session_id: str) -> int:
        """Stop every run of a session, on whichever process it runs; return how many were stopped."""
        return await self.runs.cancel(session_id)

    async def answer(self, session_id: str, key: str, value: object) -> bool:
        """Deliver a confirmation or a reply to the run waiting for it, wherever it runs; False if none waits."""
        return await self.runs.answer(session_id, key, value)


def visible_or_404(session: SessionPublic | None, principal: Principal | None) -> SessionPublic:
    """Return ``session`` if ``principal`` may see it; NotFound when there is none or it is another's (the same answer)."""
    if session is None or (principal is not None and not principal.can_see(session)):
        raise NotFound("session not found", "session_missing")
    return session
