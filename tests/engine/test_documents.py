"""read_file on real documents: what the model reads, what it is told when a file is cut, and what is refused."""

from __future__ import annotations

import asyncio
import threading
import time
import zipfile

import pytest

from agentkit_app.engine.tools import ToolContext, ToolRegistry, documents
from agentkit_app.engine.tools.builtin import builtin_tools
from agentkit_app.engine.tools.documents import UnreadableDocument, extract_text, read_document
from tests.document_fixtures import docx_file, encrypted_pdf, pdf_bytes, pptx_file, xlsx_file


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "up"
    folder.mkdir()
    return folder


async def read(uploads, name: str) -> str:
    tool = ToolRegistry(builtin_tools()).get("read_file")
    assert tool is not None and tool.handler is not None
    return await tool.handler({"stored_name": name}, ToolContext(uploads, uploads.parent / "scratch"))


async def test_the_model_reads_the_text_of_a_pdf_docx_pptx_and_xlsx(uploads):
    (uploads / "a.pdf").write_bytes(pdf_bytes(["Hello from page one", "And (page) two"]))
    docx_file(uploads / "b.docx")
    pptx_file(uploads / "c.pptx")
    xlsx_file(uploads / "d.xlsx")
    assert await read(uploads, "a.pdf") == "Hello from page one\n\nAnd (page) two"
    assert await read(uploads, "b.docx") == (
        "# Quarterly report\n\nRevenue grew in every region.\n\n| Region | Sales |\n| North | 120 |"
    )
    assert await read(uploads, "c.pptx") == (
        "## Slide 1\nSlide title 1\nPoint number 1\n\n## Slide 2\nSlide title 2\nPoint number 2"
    )
    sheets = await read(uploads, "d.xlsx")
    assert (
        sheets
        == "## Sheet: Budget\n| Item | Cost |\n| Servers | 4200 |\n\n## Sheet: Staff\n| Name | Team |\n| Ada | Platform |"
    )


async def test_html_loses_its_scripts_and_csv_becomes_a_table(uploads):
    (uploads / "p.html").write_text(
        "<html><head><title>t</title><script>steal()</script><style>p{}</style></head>"
        "<body><h1>Menu</h1><p>Soup &amp; bread</p><ul><li>tea</li></ul></body></html>"
    )
    (uploads / "t.csv").write_text("name;age\nAda;36\n")
    assert await read(uploads, "p.html") == "# Menu\nSoup & bread\n- tea"
    assert await read(uploads, "t.csv") == "| name | age |\n| --- | --- |\n| Ada | 36 |"
    (uploads / "app.html").write_text(
        "<head><script>" + "x=1;" * 100_000 + "</script></head><p>After the script</p>"
    )
    assert await read(uploads, "app.html") == "After the script", "a page's text past a large script is found"


async def test_text_in_utf8_utf16_and_gbk_reads_as_text(uploads):
    (uploads / "a.txt").write_text("naïve café")
    (uploads / "b.txt").write_bytes("小结：完成".encode("utf-16"))
    (uploads / "c.txt").write_bytes("你好，世界".encode("gbk"))
    assert [await read(uploads, n) for n in ("a.txt", "b.txt", "c.txt")] == [
        "naïve café",
        "小结：完成",
        "你好，世界",
    ]


async def test_a_long_file_is_cut_and_the_model_is_told_how_much_it_got(uploads):
    (uploads / "long.txt").write_text("x" * 50_000)
    out = await read(uploads, "long.txt")
    text, note = out.rsplit("\n", 1)
    assert text == "x" * 20_000
    assert (
        note
        == "[cut to fit: kept the first 20,000 characters of this text file (50,000 bytes); the rest was not read]"
    )


def test_a_pdf_cut_to_fit_says_which_pages_were_read(tmp_path):
    path = tmp_path / "book.pdf"
    path.write_bytes(pdf_bytes([f"Chapter {n} " + "words " * 20 for n in range(1, 6)]))
    out = extract_text(path, max_chars=200).for_model()
    assert out.startswith("Chapter 1 words")
    assert "from pages 1-2 of 5; the rest was not read]" in out


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n" + bytes(200),
            "it is an image; read_file reads text, not pictures",
        ),
        ("tool.bin", bytes(range(256)) * 4, "it is a binary file, not text"),
        ("noise.dat", bytes([0x80, 0x81, 0xFE, 0xFF, 0x01, 0x02]) * 100, "it is a binary file, not text"),
        ("old.doc", documents.OLD_OFFICE_MAGIC + bytes(100), "it is an old Office file"),
        ("broken.docx", b"PK\x03\x04" + b"garbage" * 20, "it is a damaged zip or Office file"),
    ],
)
async def test_files_it_cannot_read_are_refused_with_a_reason_not_garbage(uploads, name, data, reason):
    (uploads / name).write_bytes(data)
    out = await read(uploads, name)
    assert out.startswith(f"error: cannot read {name!r}: {reason}")
    assert "\ufffd" not in out


async def test_an_encrypted_pdf_is_refused_and_a_zip_that_is_no_office_file_too(uploads):
    encrypted_pdf(uploads / "locked.pdf", "hunter2")
    with zipfile.ZipFile(uploads / "files.docx", "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert (
        await read(uploads, "locked.pdf")
        == "error: cannot read 'locked.pdf': it is an encrypted PDF that needs a password"
    )
    assert (await read(uploads, "files.docx")).startswith(
        "error: cannot read 'files.docx': it is a zip archive"
    )


async def test_a_docx_with_broken_xml_is_a_damaged_docx(uploads):
    with zipfile.ZipFile(uploads / "bad.docx", "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
        archive.writestr("word/document.xml", "<w:document><unclosed")
    assert (await read(uploads, "bad.docx")).startswith(
        "error: cannot read 'bad.docx': it is a damaged DOCX file"
    )


async def test_a_zip_bomb_is_refused_before_anything_is_unpacked(uploads, monkeypatch):
    monkeypatch.setattr(documents, "MAX_UNZIPPED", 1024 * 1024)
    with zipfile.ZipFile(uploads / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"\0" * (2 * 1024 * 1024))
    assert (uploads / "bomb.xlsx").stat().st_size < 10_000, "small on disk, large once unpacked"
    out = await read(uploads, "bomb.xlsx")
    assert out == "error: cannot read 'bomb.xlsx': it unpacks to more than 1 MB or 10000 entries: refused"


def test_a_spreadsheet_claiming_huge_dimensions_is_read_within_its_caps(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "top"
    sheet["XFD1"] = "far right"  # 16,384 columns wide
    sheet["A60000"] = "far down"
    book.save(str(tmp_path / "wide.xlsx"))
    started = time.monotonic()
    out = extract_text(tmp_path / "wide.xlsx").for_model()
    assert out.startswith("## Sheet: Sheet\n| top |")
    assert "far right" not in out, "columns past the cap are not read"
    assert time.monotonic() - started < 10


async def test_conversion_runs_off_the_event_loop_and_stops_at_its_time_limit(tmp_path, monkeypatch):
    path = tmp_path / "slow.txt"
    path.write_text("slow")

    def slow(*args):
        time.sleep(1.0)
        raise AssertionError("given up on before it ends")

    monkeypatch.setattr(documents, "extract_text", slow)
    monkeypatch.setattr(documents, "GRACE_S", 0.3)
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    with pytest.raises(UnreadableDocument, match=r"reading it took more than 0.1s: stopped"):
        await read_document(path, time_limit_s=0.1)
    ticker.cancel()
    assert ticks >= 5, "the event loop went on while the file was read"


async def test_only_two_documents_are_converted_at_once(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text("a")
    running, most = 0, 0
    lock = threading.Lock()

    def counted(*args):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return documents.DocumentText("a", "text")

    monkeypatch.setattr(documents, "extract_text", counted)
    texts = await asyncio.gather(*(read_document(path) for _ in range(6)))
    assert [t.text for t in texts] == ["a"] * 6
    assert most == documents.CONCURRENT == 2


def test_a_document_read_past_its_time_limit_says_so(tmp_path):
    path = tmp_path / "slow.pdf"
    path.write_bytes(pdf_bytes(["one", "two", "three"]))
    out = extract_text(path, time_limit_s=0).for_model()
    assert out.endswith("; the rest was not read (the time limit was reached)]")
    assert "pages 1-0" not in out
