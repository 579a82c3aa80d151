"""Downloads are passive: a file's type comes from its extension, and nothing in it can run."""

from __future__ import annotations

import pytest

API = "/api/v1/chat"
PAGE = b"<html><body><script>window.pwned = 1</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned = 1</script></svg>'


def _upload(client, name: str, data: bytes, declared: str) -> dict:
    stored = client.post(f"{API}/upload", files={"file": (name, data, declared)})
    assert stored.status_code == 201, stored.text
    return stored.json()


def _assert_passive(response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "sandbox" in [part.strip().split(" ")[0] for part in policy.split(";")]
    assert "default-src 'none'" in policy


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("evil.html", PAGE, "text/html"),
        ("evil.svg", SVG, "image/svg+xml"),
        ("evil.xml", SVG, "application/xhtml+xml"),
        ("evil", PAGE, "text/html"),
    ],
)
def test_script_carrying_files_download_as_attachments(client, name, data, declared):
    stored = _upload(client, name, data, declared)
    assert stored["content_type"] == "application/octet-stream", "the client is told what it will get"
    response = client.get(stored["download_url"])
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and name in disposition
    _assert_passive(response)


@pytest.mark.parametrize(
    ("name", "data", "served"),
    [
        ("shot.png", b"\x89PNG\r\n\x1a\n<script>window.pwned = 1</script>", "image/png"),
        ("notes.txt", PAGE, "text/plain; charset=utf-8"),
    ],
)
def test_passive_files_show_inline_as_their_extension_says(client, name, data, served):
    stored = _upload(client, name, data, "text/html")
    assert stored["content_type"] == served
    response = client.get(stored["download_url"])
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == served
    assert response.headers["content-disposition"].startswith("inline;")
    _assert_passive(response)


def test_the_export_is_a_passive_attachment(client, session_id):
    client.post(
        f"{API}/sessions/{session_id}/messages", json={"content": "<script>window.pwned = 1</script>"}
    )
    for fmt, media_type in (("md", "text/markdown"), ("json", "application/json")):
        response = client.get(f"{API}/sessions/{session_id}/export", params={"format": fmt})
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
        assert response.headers["content-disposition"].startswith("attachment;")
        assert f".{fmt}" in response.headers["content-disposition"]
        _assert_passive(response)
