"""The REST routes that move files: uploads in, uploaded files and session exports out.

Every file sent back carries :data:`PASSIVE_HEADERS`. A refused upload (too large, malformed) is
answered by the app's error handlers.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from agentkit_app.api.multipart_upload import receive_file
from agentkit_app.api.problems import error_responses
from agentkit_app.api.security import PrincipalDep, ServiceDep, SessionDep

# Sent with every file a user or the model wrote (downloads, exports): the browser neither guesses
# another type nor runs anything in it, even when it is opened as a page of the app's origin.
PASSIVE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
}

router = APIRouter()


class UploadReply(BaseModel):
    """A stored upload: attach it by ``stored_name``; ``content_type`` is the type it is served with."""

    filename: str
    stored_name: str
    content_type: str
    size: int
    download_url: str


@router.get(
    "/sessions/{session_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "the session as a file (attachment)",
            "content": {"text/markdown": {"schema": {"type": "string"}}, "application/json": {}},
        },
        **error_responses(404, 422),
    },
)
async def export(
    session: SessionDep,
    service: ServiceDep,
    format: Annotated[str, Query(pattern="^(md|json)$", description="md or json")] = "md",  # noqa: A002
) -> Response:
    """Download the session as Markdown or JSON (board rounds and team phases kept as structure)."""
    body, media_type, filename = await service.export(session, format)
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(
        body, media_type=media_type, headers={**PASSIVE_HEADERS, "Content-Disposition": disposition}
    )


@router.post(
    "/upload",
    status_code=201,
    responses=error_responses(413, 422),
    # read as a stream by the route, so declared here rather than as a parameter
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
async def upload(request: Request, service: ServiceDep, principal: PrincipalDep) -> UploadReply:
    """Store an uploaded file (multipart field ``file``), streaming it to disk; 413 past the limit."""
    limit = service.upload_limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise HTTPException(status_code=413, detail=f"file larger than {limit} bytes")
    stored = await receive_file(
        service.begin_upload, request.headers.get("content-type", ""), request.stream(), principal.user_id
    )
    return UploadReply.model_validate(stored.public())


class PreviewReply(BaseModel):
    """What an attachment chip shows: ``kind`` (image, pdf, docx, text, ... or none), first lines, a thumbnail."""

    kind: str
    lines: str
    thumbnail: str  # a data: URI of a small WebP image, or empty


@router.get("/uploads/{stored_name}/preview", responses=error_responses(404, 422))
async def preview(stored_name: str, service: ServiceDep, principal: PrincipalDep) -> PreviewReply:
    """Return the preview of an uploaded file (404 for unknown or unsafe names, or another user's file)."""
    found = await service.upload_preview(stored_name, principal)
    if found is None:
        raise HTTPException(status_code=404, detail="file not found")
    return PreviewReply.model_validate(found.public())


@router.get(
    "/uploads/{stored_name}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "the file: inline if an image, PDF or text, else an attachment",
            "content": {"*/*": {}},
        },
        **error_responses(404, 422),
    },
)
async def download(stored_name: str, service: ServiceDep, principal: PrincipalDep) -> FileResponse:
    """Return an uploaded file under its original name (404 for unknown or unsafe names, or another user's file).

    Images (not SVG), PDF and plain text are shown in place; anything else downloads as
    ``application/octet-stream``, whatever type its uploader declared.
    """
    info = service.upload_info(stored_name, principal)
    if info is None:
        raise HTTPException(status_code=404, detail="file not found")
    served = info.served
    return FileResponse(
        info.path,
        media_type=served.media_type,
        filename=info.filename,
        content_disposition_type="inline" if served.inline else "attachment",
        headers=PASSIVE_HEADERS,
    )
