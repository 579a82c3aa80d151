"""The upload store: each file's record (name, type, size, owner) and who may read it."""

from __future__ import annotations

import json

import pytest

from agentkit_app.service.uploads import DOWNLOAD_TYPE, META_DIR, UploadStore, UploadTooLarge, served_type


def _store(tmp_path, limit: int = 1024) -> UploadStore:
    return UploadStore(tmp_path / "uploads", limit)


def _put(store: UploadStore, name: str, data: bytes, owner: str | None = None):
    pending = store.begin(name, owner)
    pending.write(data)
    return pending.finish("text/plain")


def test_a_file_is_readable_by_its_owner_and_by_readers_of_everything(tmp_path):
    store = _store(tmp_path)
    stored = _put(store, "Report 2026.txt", b"numbers", owner="alice")
    info = store.info(stored.stored_name, "alice")
    assert info is not None and info.path.read_bytes() == b"numbers"
    assert (info.filename, info.owner) == ("Report_2026.txt", "alice")
    assert (info.served.media_type, info.served.inline) == ("text/plain; charset=utf-8", True)
    assert store.info(stored.stored_name, None) is not None
    assert store.info(stored.stored_name, "bob") is None
    assert store.readable_by("alice")(stored.stored_name) and not store.readable_by("bob")(stored.stored_name)


def test_a_file_without_a_record_belongs_to_nobody(tmp_path):
    store = _store(tmp_path)
    store.directory.mkdir(parents=True)
    (store.directory / "older.txt").write_text("from before records")
    assert store.info("older.txt", None).filename == "older.txt"
    assert store.info("older.txt", "alice") is None


def test_a_damaged_record_hides_the_file(tmp_path):
    store = _store(tmp_path)
    stored = _put(store, "a.txt", b"x", owner="alice")
    (store.directory / META_DIR / f"{stored.stored_name}.json").write_text("{not json")
    assert store.info(stored.stored_name, None) is None


def test_too_large_keeps_neither_file_nor_record(tmp_path):
    store = _store(tmp_path, limit=4)
    pending = store.begin("big.bin", "alice")
    with pytest.raises(UploadTooLarge):
        pending.write(b"12345")
    assert [p.name for p in store.directory.iterdir() if p.name != META_DIR] == []


def test_the_record_holds_what_the_upload_returned(tmp_path):
    store = _store(tmp_path)
    stored = _put(store, "notes.md", b"# hi", owner=None)
    record = json.loads((store.directory / META_DIR / f"{stored.stored_name}.json").read_text())
    assert record == {
        "filename": "notes.md",
        "content_type": "text/plain; charset=utf-8",
        "size": 4,
        "owner": None,
    }
    assert store.info(f"{META_DIR}/{stored.stored_name}.json", None) is None


def test_a_record_that_cannot_be_written_keeps_neither_file_nor_record(tmp_path):
    store = _store(tmp_path)
    pending = store.begin("a.txt", "alice")
    pending.write(b"data")
    (store.directory / META_DIR / f"{pending.path.name}.json").mkdir()  # the record cannot take its place
    with pytest.raises(OSError):
        pending.finish("text/plain")
    assert sorted(p.name for p in store.directory.iterdir()) == [META_DIR]
    assert store.info(pending.path.name) is None


def test_an_upload_is_not_readable_until_it_is_whole_and_owned(tmp_path):
    store = _store(tmp_path)
    pending = store.begin("a.txt", "alice")
    pending.write(b"half")
    assert store.info(pending.path.name) is None  # another process sharing the directory sees nothing yet
    stored = pending.finish("text/plain")
    assert store.info(stored.stored_name, "alice").path.read_bytes() == b"half"


def test_no_upload_starts_where_the_records_folder_cannot_be_made(tmp_path):
    store = _store(tmp_path)
    store.directory.mkdir(parents=True)
    (store.directory / META_DIR).write_text("in the way")
    with pytest.raises(OSError):
        store.begin("a.txt", "alice")
    assert sorted(p.name for p in store.directory.iterdir()) == [META_DIR]


def test_two_uploads_of_one_name_are_two_files(tmp_path):
    store = _store(tmp_path)
    first, second = _put(store, "notes.txt", b"one", "alice"), _put(store, "notes.txt", b"two", "bob")
    assert first.stored_name != second.stored_name
    assert store.info(first.stored_name, "alice").path.read_bytes() == b"one"
    assert store.info(second.stored_name, "bob").path.read_bytes() == b"two"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("photo.PNG", "image/png"),
        ("photo.jpg", "image/jpeg"),
        ("photo.jpeg", "image/jpeg"),
        ("anim.gif", "image/gif"),
        ("pic.webp", "image/webp"),
        ("paper.pdf", "application/pdf"),
        ("notes.txt", "text/plain; charset=utf-8"),
    ],
)
def test_passive_types_are_shown_in_place(name, media_type):
    assert served_type(name).media_type == media_type and served_type(name).inline


@pytest.mark.parametrize(
    "name",
    ["page.html", "page.htm", "logo.svg", "app.js", "feed.xml", "page.xhtml", "x.mht", "noext", "a.bin"],
)
def test_anything_else_is_a_download(name):
    assert (served_type(name).media_type, served_type(name).inline) == (DOWNLOAD_TYPE, False)


def test_the_declared_type_is_not_what_the_file_is_served_as(tmp_path):
    store = _store(tmp_path)
    pending = store.begin("page.html", "alice")
    pending.write(b"<script>alert(1)</script>")
    stored = pending.finish("text/html")
    assert stored.content_type == DOWNLOAD_TYPE
    pending = store.begin("shot.png", "alice")
    pending.write(b"\x89PNG")
    assert pending.finish("text/html").content_type == "image/png"
