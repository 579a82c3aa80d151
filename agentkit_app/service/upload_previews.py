"""What an attachment chip shows of a file: a small thumbnail of an image, the first lines of a text or document.

A preview is made once, off the event loop, and kept beside the file's record
(``.meta/<stored_name>.preview.json``), so asking again costs one small read. It is handed out
only to whoever may read the file itself: callers pass an :class:`UploadInfo` the store gave them
for that reader. A file that cannot be previewed (a binary, a damaged document, an image too large
to decode cheaply) gets an empty preview, never an error.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from agentkit_app.engine.tools.documents import UnreadableDocument, read_document
from agentkit_app.service.uploads import META_DIR, UploadInfo

log = logging.getLogger(__name__)
PREVIEW_LINES = 4
PREVIEW_CHARS = 240
THUMBNAIL_PX = 96
MAX_PIXELS = 40_000_000  # larger images get no thumbnail: decoding them is not cheap
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
TIME_LIMIT_S = 5.0


@dataclass(frozen=True)
class UploadPreview:
    """A file's preview: ``kind`` (image, pdf, docx, text, ..., or none), its first lines, a thumbnail URI."""

    kind: str = "none"
    lines: str = ""
    thumbnail: str = ""  # a data: URI (WebP), only for images

    def public(self) -> dict[str, str]:
        """Return the JSON form."""
        return asdict(self)


def first_lines(text: str, lines: int = PREVIEW_LINES, chars: int = PREVIEW_CHARS) -> str:
    """Return the first non-blank lines of ``text``, at most ``lines`` of them and ``chars`` characters."""
    kept = [" ".join(line.split()) for line in text.splitlines() if line.strip()][:lines]
    joined = "\n".join(kept)
    return joined if len(joined) <= chars else joined[: chars - 1].rstrip() + "…"


def thumbnail(path: Path) -> str:
    """Return a small WebP thumbnail of the image at ``path`` as a data: URI, or "" (blocking)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                return ""
            image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))  # JPEG: decode at a smaller scale
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            small = image.convert(
                "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
            )
            out = io.BytesIO()
            small.save(out, "WEBP", quality=70)
    except Exception:  # noqa: BLE001 - a damaged or hostile image simply has no thumbnail
        log.info("no thumbnail for upload %s", path.name)
        return ""
    return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode()


async def make_preview(path: Path, filename: str) -> UploadPreview:
    """Return the preview of a stored file, made in worker threads within a small time and text budget."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        thumb = await asyncio.to_thread(thumbnail, path)
        return UploadPreview("image", "", thumb) if thumb else UploadPreview()
    try:
        document = await read_document(path, filename, max_chars=PREVIEW_CHARS * 4, time_limit_s=TIME_LIMIT_S)
    except UnreadableDocument:
        return UploadPreview()
    return UploadPreview(document.kind, first_lines(document.text))


async def upload_preview(info: UploadInfo) -> UploadPreview:
    """Return the preview of a file its reader may see: the one kept, or a new one, then kept."""
    kept = info.path.parent / META_DIR / f"{info.path.name}.preview.json"
    try:
        return UploadPreview(**json.loads(await asyncio.to_thread(kept.read_text)))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, TypeError):
        log.warning("unreadable preview of upload %s: made again", info.path.name)
    preview = await make_preview(info.path, info.filename)
    try:
        await asyncio.to_thread(kept.write_text, json.dumps(preview.public()))
    except OSError:
        log.warning("could not keep the preview of upload %s", info.path.name)
    return preview
