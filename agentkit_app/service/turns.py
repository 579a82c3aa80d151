"""What the service and its flows share about a turn: the service's limits, a user's request and its checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentkit_app.engine.tools import ToolContext
from agentkit_app.service.errors import InvalidInput

if TYPE_CHECKING:
    from agentkit_app.service.access import Principal
    from agentkit_app.service.uploads import UploadStore

EXECUTION_MODES = (None, "react", "plan_exec")
MAX_ATTACHMENTS = 10


@dataclass
class ServiceConfig:
    """The limits and places the service works with."""

    tool_context: ToolContext
    max_content_chars: int = 32_000
    confirmation_timeout_s: float = 300.0
    board_max_rounds: int = 5
    models: list[str] = field(default_factory=list)
    model_label: str = ""
    plan_exec_enabled: bool = True
    # the deployment's phase policy as configured (list, JSON/YAML text, or None for the default);
    # read per turn so that a bad one fails the turn with a clear error instead of the startup
    plan_exec_policy: Any = None


@dataclass
class TurnRequest:
    """One user message and its options."""

    session_id: str
    content: str
    model: str | None = None
    execution_mode: str | None = None
    language: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # answer the active branch's last user message again instead of storing a new one
    regenerate: bool = False
    # who sends it: their sessions only, their department's quotas (None: no accounts, no limits)
    principal: Principal | None = None
    # store the message as a new branch after this message ("" = at the start): an edit
    fork_at: str | None = None


def checked_text(content: str, max_chars: int) -> str:
    """Return a message's text stripped; raise InvalidInput if it is empty or longer than ``max_chars``."""
    text = (content or "").strip()
    if not text:
        raise InvalidInput("content must not be empty", "err_empty")
    if len(text) > max_chars:
        raise InvalidInput(f"content longer than {max_chars} characters", "err_too_long", limit=max_chars)
    return text


def checked_attachments(
    attachments: list[Any], uploads: UploadStore, principal: Principal | None
) -> list[dict[str, str]]:
    """Return the attachments as ``{filename, stored_name}``; each must be an upload ``principal`` may read."""
    if not isinstance(attachments, list):
        raise InvalidInput("attachments must be a list of uploads")
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments per message")
    reader = principal.owner_filter if principal else None
    checked = []
    for attachment in attachments:
        name = str(attachment.get("stored_name") or "") if isinstance(attachment, dict) else ""
        info = uploads.info(name, reader) if name else None
        if info is None:
            raise InvalidInput(
                f"unknown attachment {name[:80]!r}: upload the file first",
                "err_attachment",
                name=name[:80],
            )
        checked.append({"filename": info.filename, "stored_name": info.path.name})
    return checked
