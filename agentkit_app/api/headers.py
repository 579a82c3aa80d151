"""Security headers on every HTTP response the app serves: its pages, the API and downloads.

:class:`SecurityHeaders` wraps the whole ASGI app (Reflex's static pages, ``/_event``, the mounted
``/api/v1`` routes), so the prod single-port server sends the same headers whatever answers.

Three Content-Security-Policies, chosen by path:

- **pages** (everything outside ``/api/``): scripts only from this origin plus the inline
  bootstrap scripts of the built pages, allowed one by one by their SHA-256 (read from the build
  that is being served), so markup smuggled into a page cannot run. Styles allow inline
  (Radix and emotion write ``<style>`` elements and ``style`` attributes at run time). Images
  from this origin, ``data:`` and ``blob:`` only, so a model answer cannot make the browser call
  out with ``![](https://elsewhere/?leak)``. The ``/_event`` WebSocket is same-origin (``'self'``
  covers ws:/wss: of this host). ``'unsafe-eval'`` stays because Reflex runs the events a
  server handler returns as script (toasts, downloads) with ``eval``; those strings come from our
  server code, never from content, and the page's own scripts are compiled into the bundle.
- **the API** (``/api/``): JSON and files, never a page: nothing may load or run.
- **the Swagger UI** (``/api/v1/docs``): FastAPI's page loads Swagger UI from jsDelivr and starts
  it with one inline script; that script is allowed by its hash, taken from the page itself.

A response that already names its own policy (downloads send ``sandbox``) keeps it. Headers a
response sets itself are never overwritten.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATH = "/api/v1/docs"
SWAGGER_CDN = "https://cdn.jsdelivr.net"

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S | re.I)

COMMON_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors' predecessor, for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",  # a page this one opens gets no handle on it
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()",
}

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def script_hashes(html: bytes) -> list[str]:
    """Return the CSP source (``'sha256-...'``) of every inline ``<script>`` in ``html``, in order."""
    sources = []
    for body in _INLINE_SCRIPT.findall(html):
        if body.strip():
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            sources.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(sources))


def page_policy(hashes: Iterable[str]) -> str:
    """Return the policy for the app's pages, allowing the given inline-script hashes."""
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self' 'unsafe-eval'", *hashes]),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "media-src 'self' blob:",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "frame-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def docs_policy(hashes: Iterable[str]) -> str:
    """Return the policy for FastAPI's Swagger UI page."""
    return "; ".join(
        [
            "default-src 'none'",
            " ".join([f"script-src {SWAGGER_CDN}", *hashes]),
            f"style-src {SWAGGER_CDN} 'unsafe-inline'",
            "img-src 'self' data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class PageScripts:
    """The inline-script hashes of the built pages in ``directory``, read again when the build changes."""

    def __init__(self, directory: Path) -> None:
        """Watch ``directory`` (Reflex's static build, e.g. ``.web/build/client``)."""
        self.directory = directory
        self._stamp: tuple[int, ...] | None = None
        self._hashes: list[str] = []

    def hashes(self) -> list[str]:
        """Return the hashes of every inline script of every ``.html`` page of the current build."""
        stamp = self._build_stamp()
        if stamp != self._stamp:
            pages = sorted(self.directory.rglob("*.html")) if stamp else []
            found = [source for page in pages for source in script_hashes(page.read_bytes())]
            self._hashes, self._stamp = list(dict.fromkeys(found)), stamp
        return self._hashes

    def _build_stamp(self) -> tuple[int, ...]:
        """Two stats, cheap enough for every request: a new build replaces the directory and its index."""
        try:
            return (self.directory.stat().st_mtime_ns, (self.directory / "index.html").stat().st_mtime_ns)
        except OSError:
            return ()


class SecurityHeaders:
    """ASGI middleware: add the security headers above to every HTTP response of ``app``."""

    def __init__(self, app: ASGIApp, pages: PageScripts) -> None:
        """Wrap ``app``; ``pages`` gives the inline scripts the built pages may run."""
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass WebSockets through; add headers to HTTP responses."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.rstrip("/") == DOCS_PATH:
            await self.app(scope, receive, _DocsPage(send))
            return
        policy = API_POLICY if path.startswith("/api/") else page_policy(self.pages.hashes())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_headers(message.get("headers", []), policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _DocsPage:
    """Hold back the Swagger UI page until its body is known, then allow its inline script by hash."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.body += message.get("body", b"")
        if message.get("more_body", False):
            return
        self.start["headers"] = with_headers(
            self.start.get("headers", []), docs_policy(script_hashes(self.body))
        )
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": self.body, "more_body": False})


def with_headers(raw: Iterable[Any], policy: str) -> list[tuple[bytes, bytes]]:
    """Return ``raw`` response headers plus the common headers and ``policy``, where not already set."""
    headers = [(bytes(name), bytes(value)) for name, value in raw]
    present = {name.lower() for name, _ in headers}
    wanted = {**COMMON_HEADERS, "Content-Security-Policy": policy}
    headers += [
        (k.lower().encode(), v.encode()) for k, v in wanted.items() if k.lower().encode() not in present
    ]
    return headers


def security_headers(pages_dir: Path) -> Callable[[ASGIApp], ASGIApp]:
    """Return an ``api_transformer`` for ``rx.App`` that wraps the app in :class:`SecurityHeaders`."""
    pages = PageScripts(pages_dir)

    def wrap(app: ASGIApp) -> ASGIApp:
        return SecurityHeaders(app, pages)

    return wrap
