"""The upload store: files streamed to disk under a random name, never past the size limit."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

from agentkit_app.engine.tools.builtin import resolve_upload


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


class PendingUpload:
    """A file being written: bytes go straight to disk and the limit is checked on each write."""

    def __init__(self, path: Path, filename: str, max_bytes: int) -> None:
        self.path = path
        self.filename = filename
        self.max_bytes = max_bytes
        self.size = 0
        self._out = path.open("wb")

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
        self.path.unlink(missing_ok=True)

    def finish(self, content_type: str) -> StoredUpload:
        """Close the file and return its description."""
        self._out.close()
        return StoredUpload(
            filename=self.filename,
            stored_name=self.path.name,
            content_type=content_type or "application/octet-stream",
            size=self.size,
            download_url=f"/api/v1/chat/uploads/{self.path.name}",
        )


class UploadStore:
    """Stores uploads in one directory; download names cannot escape it."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def begin(self, filename: str) -> PendingUpload:
        """Start writing an upload under a random name that keeps the original extension."""
        self.directory.mkdir(parents=True, exist_ok=True)
        clean = sanitize_filename(filename)
        ext = os.path.splitext(clean)[1].lower()[:16]
        return PendingUpload(self.directory / (secrets.token_hex(16) + ext), clean, self.max_bytes)

    async def save(self, filename: str, content_type: str, chunks: AsyncIterator[bytes]) -> StoredUpload:
        """Write the chunks to disk, stopping (and deleting the part) once past the limit."""
        pending = self.begin(filename)
        try:
            async for chunk in chunks:
                pending.write(chunk)
        except BaseException:
            pending.discard()
            raise
        return pending.finish(content_type)

    def path_of(self, stored_name: str) -> Path | None:
        """Return the path of a stored upload, or None (unknown or unsafe name)."""
        return resolve_upload(self.directory, stored_name)
