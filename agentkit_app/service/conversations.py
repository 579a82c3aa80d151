"""What the transports read through the service: session lists, messages, search, exports, runs and uploads.

:class:`ConversationReads` is a base of ``ChatService``, so that the web UI, REST and the WebSocket
ask the service, never its session store, run registry or upload store, and the service stays free
to change how those are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentkit_app.service.export import export_session
from agentkit_app.service.upload_previews import UploadPreview, upload_preview
from agentkit_app.service.viewing import Position, View, views_of
from agentkit_app.store.models import MessagePublic, SessionPublic
from agentkit_app.store.search import SearchHit

if TYPE_CHECKING:
    from agentkit_app.service.access import Principal
    from agentkit_app.service.runs import Run, RunRegistry
    from agentkit_app.service.uploads import PendingUpload, UploadInfo, UploadStore
    from agentkit_app.store.feedback import FeedbackStore
    from agentkit_app.store.sessions import SessionManager

__all__ = ["ConversationReads", "search_visible"]


async def search_visible(
    store: SessionManager, principal: Principal | None, query: str, limit: int
) -> list[SearchHit]:
    """Return search hits in the sessions ``principal`` may see, best first (ValueError on a bad query)."""
    if principal is None or principal.sees_all:
        return await store.search(query, limit)
    # filtered after the search, so a user with few matches among many others' may get fewer than ``limit``
    hits = await store.search(query, max(limit * 10, 200))
    owned: dict[str, bool] = {}
    visible: list[SearchHit] = []
    for hit in hits:
        if hit.session_id not in owned:
            session = await store.get_session(hit.session_id)
            owned[hit.session_id] = session is not None and principal.can_see(session)
        if owned[hit.session_id]:
            visible.append(hit)
    return visible[:limit]


class ConversationReads:
    """The read side of the service: what the transports may look at, and the upload door."""

    store: SessionManager
    runs: RunRegistry
    uploads: UploadStore
    feedback: FeedbackStore

    async def list_sessions(
        self, principal: Principal, *, limit: int = 50, offset: int = 0
    ) -> list[SessionPublic]:
        """Return the sessions ``principal`` may see, newest first (a user's own; everyone else's all)."""
        return await self.store.list_sessions(limit=limit, offset=offset, user_id=principal.owner_filter)

    async def session(self, session_id: str) -> SessionPublic | None:
        """Return a session as stored now, or None (no visibility check: for a run's own session)."""
        return await self.store.get_session(session_id)

    async def messages(
        self, session_id: str, *, limit: int | None = None, offset: int = 0, branch: str = "active"
    ) -> list[MessagePublic]:
        """Return a session's messages in conversation order (``branch``: the ``active`` one or ``all``)."""
        return await self.store.get_messages(session_id, limit=limit, offset=offset, branch=branch)

    async def search(self, principal: Principal | None, query: str, limit: int) -> list[SearchHit]:
        """Return hits of ``query`` in the sessions ``principal`` may see, best first (ValueError on a bad query)."""
        return await search_visible(self.store, principal, query, limit)

    async def export(self, session: SessionPublic, fmt: str) -> tuple[str, str, str]:
        """Return a session as a file: its text, media type and file name (``fmt``: ``md`` or ``json``).

        Readers' votes on its messages go with them.
        """
        messages = await self.store.get_messages(session.session_id)
        return export_session(session, messages, fmt, await self.feedback.of_session(session.session_id))

    async def run(self, run_id: str) -> Run | None:
        """Return a run in flight by its id (on another process: a view that follows it), or None."""
        return await self.runs.get(run_id)

    async def runs_of(self, session_id: str) -> list[Run]:
        """Return the session's runs in flight, on any process, oldest first."""
        return await self.runs.of_session(session_id)

    async def views(self, session_id: str, after: Position | None = None) -> list[View]:
        """Return what a viewer connecting to the session follows (from ``after``, the last event it saw)."""
        return await views_of(self.runs, session_id, after)

    async def busy(self, session_id: str) -> bool:
        """Return whether a run of the session has not answered yet (interventions aside)."""
        return bool(await self.runs.busy(session_id))

    @property
    def upload_limit(self) -> int:
        """Return the largest upload, in bytes."""
        return self.uploads.max_bytes

    def begin_upload(self, filename: str, owner: str | None = None) -> PendingUpload:
        """Start storing an uploaded file as ``owner``'s; write to it, then finish or discard it."""
        return self.uploads.begin(filename, owner)

    def upload_info(self, stored_name: str, principal: Principal) -> UploadInfo | None:
        """Return an uploaded file that ``principal`` may read, or None (unknown, unsafe name, or not theirs)."""
        return self.uploads.info(stored_name, principal.owner_filter)

    async def upload_preview(self, stored_name: str, principal: Principal) -> UploadPreview | None:
        """Return what an attachment chip shows of an upload ``principal`` may read, or None (as :meth:`upload_info`)."""
        info = self.upload_info(stored_name, principal)
        return None if info is None else await upload_preview(info)
