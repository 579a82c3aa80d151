"""The upload store: files streamed to disk under a random name, never past the size limit.

Each file has a small record beside it (``.meta/<stored_name>.json``: original name, type, size,
owner). A name starting with a dot cannot be downloaded, so the records stay private. A file is
written under ``.meta/`` and renamed into place once its record is there, so another process
sharing the directory never reads a file half written or without its owner. With
accounts on, a regular user reads only the files they uploaded; admins and API-key clients read all.

The type a file is served with comes from its extension through :func:`served_type`, never from
the type its uploader declared: a page or an SVG with script must not run on the app's origin.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from agentkit_app.engine.tools.builtin import resolve_upload

log = logging.getLogger(__name__)
META_DIR = ".meta"
DOWNLOAD_TYPE = "application/octet-stream"
# The only types a browser may show in place: passive formats that run no script. SVG is an image
# that runs script, so it is not here; neither is HTML, XML or anything unknown.
INLINE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".csv": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class ServedType:
    """How a stored file is sent: its media type, and whether a browser may show it in place."""

    media_type: str
    inline: bool


def served_type(filename: str) -> ServedType:
    """Return how a file named ``filename`` is served: an allowlisted type inline, else a download."""
    media_type = INLINE_TYPES.get(os.path.splitext(filename)[1].lower())
    return ServedType(media_type, True) if media_type else ServedType(DOWNLOAD_TYPE, False)


class UploadTooLarge(Exception):
    """The file is larger than the configured limit; nothing was kept."""


@dataclass(frozen=True)
class StoredUpload:
    """What the upload endpoint returns."""

    filename: str
    stored_name: str
    content_type: str
    size: int
    download_url: str

    def public(self) -> dict[str, object]:
        """Return the JSON form."""
        return asdict(self)


def sanitize_filename(name: str) -> str:
    """Return a file name with no path and only letters, digits and ``._-``."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "file"
    return cleaned[:120]


@dataclass(frozen=True)
class UploadInfo:
    """What is known of a stored file: where it is, its original name, how it is served, who uploaded it."""

    path: Path
    filename: str
    owner: str | None

    @property
    def served(self) -> ServedType:
        """Return how the file is served, from the extension of its stored name."""
        return served_type(self.path.name)


class PendingUpload:
    """A file being written: bytes go straight to disk and the limit is checked on each write."""

    def __init__(self, path: Path, filename: str, max_bytes: int, owner: str | None = None) -> None:
        self.path = path
        self.filename = filename
        self.max_bytes = max_bytes
        self.owner = owner
        self.size = 0
        path.parent.joinpath(META_DIR).mkdir(exist_ok=True)
        # written out of sight, renamed into place by finish(): readers see the whole file or none
        self._partial = path.parent / META_DIR / f"{path.name}.part"
        self._out = self._partial.open("wb")

    def write(self, data: bytes) -> None:
        """Append bytes; raise UploadTooLarge (and delete the part) once past the limit."""
        self.size += len(data)
        if self.size > self.max_bytes:
            self.discard()
            raise UploadTooLarge(f"file larger than {self.max_bytes} bytes")
        self._out.write(data)

    def discard(self) -> None:
        """Delete what was written."""
        self._out.close()
        self._partial.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)

    def finish(self, declared_type: str | None = None) -> StoredUpload:
        """Close the file, write its record and return its description.

        ``declared_type``, the type the uploader claimed, is not trusted and not kept: the record
        and the reply hold the type the file will be served with (see :func:`served_type`).
        """
        self._out.close()
        stored = StoredUpload(
            filename=self.filename,
            stored_name=self.path.name,
            content_type=served_type(self.path.name).media_type,
            size=self.size,
            download_url=f"/api/v1/chat/uploads/{self.path.name}",
        )
        record = {
            "filename": stored.filename,
            "content_type": stored.content_type,
            "size": stored.size,
            "owner": self.owner,
        }
        meta = self.path.parent / META_DIR / f"{self.path.name}.json"
        written = meta.with_name(f"{meta.name}.part")
        try:
            written.write_text(json.dumps(record))
            os.replace(written, meta)
            os.replace(self._partial, self.path)
        except OSError:
            written.unlink(missing_ok=True)
            self.discard()  # a file without its owner on record could be read by anyone: keep neither
            raise
        return stored


class UploadStore:
    """Stores uploads in one directory; download names cannot escape it."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def begin(self, filename: str, owner: str | None = None) -> PendingUpload:
        """Start writing an upload (of user ``owner``, if any) under a random name that keeps the extension."""
        self.directory.mkdir(parents=True, exist_ok=True)
        clean = sanitize_filename(filename)
        ext = os.path.splitext(clean)[1].lower()[:16]
        return PendingUpload(self.directory / (secrets.token_hex(16) + ext), clean, self.max_bytes, owner)

    def info(self, stored_name: str, reader: str | None = None) -> UploadInfo | None:
        """Return a stored upload that ``reader`` may read, or None (unknown, unsafe, or not theirs).

        ``reader`` None reads every file; a user id reads only that user's files.
        """
        path = resolve_upload(self.directory, stored_name)
        if path is None:
            return None
        try:
            record = json.loads((self.directory / META_DIR / f"{path.name}.json").read_text())
        except FileNotFoundError:
            record = {}  # stored before records existed: nobody's, so only readers of every file see it
        except (OSError, ValueError):
            log.warning("unreadable record of upload %s", path.name)
            return None
        owner = record.get("owner")
        if reader is not None and owner != reader:
            return None
        return UploadInfo(path, str(record.get("filename") or path.name), owner)

    def readable_by(self, reader: str | None) -> Callable[[str], bool]:
        """Return the check ``read_file`` applies to a stored name for ``reader`` (see :meth:`info`)."""
        return lambda stored_name: self.info(stored_name, reader) is not None
