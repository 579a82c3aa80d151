"""Streams a multipart upload's ``file`` part to the upload store as the request body arrives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

from python_multipart.multipart import MultipartParser, parse_options_header

from agentkit_app.service.uploads import PendingUpload, StoredUpload


class MalformedUpload(ValueError):
    """The body is not multipart/form-data with a ``file`` part."""


async def receive_file(
    begin: Callable[[str, str | None], PendingUpload],
    content_type: str,
    body: AsyncIterator[bytes],
    owner: str | None = None,
) -> StoredUpload:
    """Write the ``file`` part of a multipart body to an upload that ``begin(filename, owner)`` starts.

    The body is streamed: it is never held in memory whole.
    """
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise MalformedUpload("expected multipart/form-data with a file field")
    headers: dict[str, str] = {}
    field: list[bytes] = []
    value: list[bytes] = []
    state: dict[str, object] = {"pending": None, "done": None}

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(field).decode("latin-1").lower()] = b"".join(value).decode("utf-8", "replace")
        field.clear()
        value.clear()

    def on_headers_finished() -> None:
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'filename="([^"]*)"', disposition)
        if name and name.group(1) == "file" and state["pending"] is None and state["done"] is None:
            # the part's declared Content-Type is not kept: the store serves by extension
            state["pending"] = begin(filename.group(1) if filename else "file", owner)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        pending = state["pending"]
        if isinstance(pending, PendingUpload):
            pending.write(data[start:end])

    def on_part_end() -> None:
        pending = state["pending"]
        if isinstance(pending, PendingUpload):
            state["done"] = pending.finish()
            state["pending"] = None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in body:
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except Exception:
        pending = state["pending"]
        if isinstance(pending, PendingUpload):
            pending.discard()
        raise
    done = state["done"]
    if not isinstance(done, StoredUpload):
        pending = state["pending"]
        if isinstance(pending, PendingUpload):
            pending.discard()
        raise MalformedUpload("the form has no complete file field")
    return done
