"""Logging as an operator reads it: text on a terminal or JSON lines, each line with the ids of its request and run.

The ids live in context variables: the request-id middleware sets ``request_id``, the routes of a
session set ``session_id``, and a run's task starts with its ``run_id`` (:func:`bind_run`). asyncio
copies the context into every task and ``to_thread`` call, so a line the engine writes deep inside a
run carries the ids of the run and of the request that started it, without passing them along.

Secrets never reach a line: every configured secret (API keys, the JWT secret, the admin password,
URL passwords) and every ``api_key=`` / ``token=`` / ``password=`` value or bearer token in a line is
replaced by ``***``. The code logs no message text at INFO; what it logs at DEBUG may contain some.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from agentkit_app.settings import MASK, Settings, secret_values

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
session_id_var: ContextVar[str | None] = ContextVar("session_id", default=None)
run_id_var: ContextVar[str | None] = ContextVar("run_id", default=None)
_IDS = (("request_id", request_id_var), ("session_id", session_id_var), ("run_id", run_id_var))

# the attributes every LogRecord has: anything else on a record was given with ``extra=``
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_CREDENTIAL = re.compile(
    r"(?i)(\b(?:api[_-]?key|token|password|secret)\b[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;}]+)"
    r"|(\bbearer\s+)([A-Za-z0-9._~+/=-]+)"
)
# a personal API token anywhere in a line: its public id stays (it names the token), its secret goes
_PERSONAL_TOKEN = re.compile(r"\b(ak_[0-9a-f]{12}_)[A-Za-z0-9_-]+")
# libraries that log every request they make at INFO: their lines only at DEBUG
_CHATTY = ("httpx", "httpcore", "multipart", "python_multipart", "asyncio", "websockets")


def bind(*, request_id: str | None = None, session_id: str | None = None, run_id: str | None = None) -> None:
    """Set the given ids in the current context: every later line of this request or task carries them."""
    for value, var in ((request_id, request_id_var), (session_id, session_id_var), (run_id, run_id_var)):
        if value is not None:
            var.set(value)


def current_ids() -> dict[str, str]:
    """Return the ids set in the current context (only those that are set)."""
    return {name: value for name, var in _IDS if (value := var.get()) is not None}


class SecretMask:
    """Replaces known secret values and anything shaped like a credential in a text with ``***``."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        # longest first, so that a secret containing another is masked whole
        self.secrets = sorted(secrets or [], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """Return ``text`` with every secret masked."""
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if "=" in text or ":" in text or "earer" in text:
            text = _CREDENTIAL.sub(_masked_credential, text)
        if "ak_" in text:
            text = _PERSONAL_TOKEN.sub(rf"\g<1>{MASK}", text)
        return text


def _masked_credential(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.group(1) is not None else match.group(3)
    return f"{prefix}{MASK}"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context's ids and the line's own fields."""

    def __init__(self, mask: SecretMask) -> None:
        super().__init__()
        self.mask = mask

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON, secrets masked."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return self.mask(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [ids] message key=value ...``: for a person at a terminal."""

    def __init__(self, mask: SecretMask) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")
        self.mask = mask

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as text (a traceback on the lines after it), secrets masked."""
        extras = _extras(record)
        ids = " ".join(f"{k}={extras.pop(k)}" for k, _ in _IDS if k in extras)
        text = super().format(record)
        head, _, rest = text.partition("\n")
        fields = " ".join(f"{k}={v}" for k, v in extras.items() if not isinstance(v, dict))
        head = " ".join(part for part in (head, fields, f"[{ids}]" if ids else "") if part)
        # a table (the configuration) one entry a line, below the line that names it
        table = [
            f"  {k}={v}" for field in extras.values() if isinstance(field, dict) for k, v in field.items()
        ]
        return self.mask("\n".join([head, *table, *([rest] if rest else [])]))


class ContextFilter(logging.Filter):
    """Adds the context's ids to each record (a record that names an id itself keeps its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return True (never drops a record) after adding the ids."""
        for name, var in _IDS:
            if name not in record.__dict__ and (value := var.get()) is not None:
                setattr(record, name, value)
        return True


class _AgentKitHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure_logging` installs (and replaces when called again)."""


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send the root logger's lines to ``stream`` (stderr) in the format and at the level the settings ask.

    Called again (another app built in the same process), it replaces its own handler and leaves
    other handlers (a test's capture) in place. Returns the handler it installed.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AgentKitHandler)]:
        root.removeHandler(old)
    handler = _AgentKitHandler(stream or sys.stderr)
    mask = SecretMask(secret_values(settings))
    handler.setFormatter(JsonFormatter(mask) if settings.log_format == "json" else TextFormatter(mask))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    level = logging.getLevelName(settings.log_level)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    return handler
