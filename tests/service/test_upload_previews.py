"""Attachment previews: a thumbnail of an image, the first lines of a text or PDF, nothing of a binary."""

from __future__ import annotations

import base64
import io
import json
import zlib

from PIL import Image

from agentkit_app.service.upload_previews import first_lines, upload_preview
from agentkit_app.service.uploads import META_DIR, UploadStore
from tests.document_fixtures import pdf_bytes


def _stored(tmp_path, name: str, data: bytes):
    store = UploadStore(tmp_path / "uploads", 50 * 1024 * 1024)
    pending = store.begin(name, "alice")
    pending.write(data)
    stored = pending.finish()
    info = store.info(stored.stored_name, "alice")
    assert info is not None
    return info


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def test_an_image_gets_a_small_thumbnail(tmp_path):
    preview = await upload_preview(_stored(tmp_path, "photo.png", _png(800, 400)))
    assert preview.kind == "image" and preview.lines == ""
    assert preview.thumbnail.startswith("data:image/webp;base64,")
    with Image.open(io.BytesIO(base64.b64decode(preview.thumbnail.split(",", 1)[1]))) as thumb:
        assert thumb.size == (96, 48)
    assert len(preview.thumbnail) < 4000, "cheap to send with the chip"


async def test_a_text_and_a_pdf_show_their_first_lines(tmp_path):
    text = await upload_preview(
        _stored(tmp_path, "notes.md", b"# Plan\n\n\nstep one\nstep two\nstep three\nstep four\n")
    )
    assert (text.kind, text.lines) == ("text", "# Plan\nstep one\nstep two\nstep three")
    pdf = await upload_preview(_stored(tmp_path, "memo.pdf", pdf_bytes(["Board memo: budget approved"])))
    assert (pdf.kind, pdf.lines, pdf.thumbnail) == ("pdf", "Board memo: budget approved", "")


async def test_a_binary_a_broken_image_and_an_image_bomb_get_no_preview(tmp_path):
    binary = await upload_preview(_stored(tmp_path, "tool.bin", bytes(range(256)) * 8))
    broken = await upload_preview(_stored(tmp_path, "broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    tiny = _png(1, 1)
    # the same tiny PNG claiming to be 8000 x 8000 pixels: refused from its header, never decoded
    header = b"IHDR" + (8000).to_bytes(4, "big") * 2 + tiny[24:29]
    bomb = tiny[:12] + header + zlib.crc32(header).to_bytes(4, "big") + tiny[33:]
    with Image.open(io.BytesIO(bomb)) as claimed_size:
        assert claimed_size.size == (8000, 8000)
    claimed = await upload_preview(_stored(tmp_path, "bomb.png", bomb))
    for preview in (binary, broken, claimed):
        assert (preview.kind, preview.lines, preview.thumbnail) == ("none", "", "")


async def test_a_preview_is_made_once_and_kept_beside_the_record(tmp_path):
    info = _stored(tmp_path, "notes.txt", b"first line\n")
    await upload_preview(info)
    kept = info.path.parent / META_DIR / f"{info.path.name}.preview.json"
    assert json.loads(kept.read_text())["lines"] == "first line"
    kept.write_text(json.dumps({"kind": "text", "lines": "kept", "thumbnail": ""}))
    assert (await upload_preview(info)).lines == "kept", "read back, not made again"
    kept.write_text("{damaged")
    assert (await upload_preview(info)).lines == "first line", "a damaged one is made again"


def test_first_lines_are_few_and_short():
    assert first_lines("a\n\n  b   c \nd\ne\nf") == "a\nb c\nd\ne"
    assert first_lines("x" * 1000).endswith("…") and len(first_lines("x" * 1000)) == 240
