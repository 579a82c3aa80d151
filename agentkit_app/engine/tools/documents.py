"""The text of an uploaded file, as ``read_file`` hands it to the model: documents converted, binaries refused.

PDF, DOCX, PPTX and XLSX go through their own maintained readers (:mod:`.office_formats`); HTML and
CSV through the standard library; anything else must be text. Every input is treated as hostile:
the format is told by the file's first bytes (not its name), Office files are checked as zip
archives before they are opened (entry count, declared size once unpacked), each reader stops at a
character budget and a page/row/slide cap, and the whole conversion runs in a worker thread under a
time limit, a few at a time.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import time
import weakref
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from agentkit_app.engine.tools.document_text import MAX_ROWS, DocumentText, TextBudget, UnreadableDocument
from agentkit_app.engine.tools.office_formats import READERS

__all__ = ["DocumentText", "UnreadableDocument", "extract_text", "read_document"]

MAX_CHARS = 20_000  # what one read hands the model
MAX_HTML_BYTES = 4 * 1024 * 1024  # of a page read for its text
MAX_UNZIPPED = 64 * 1024 * 1024  # an Office file's entries, unpacked, at most (zip bombs)
MAX_ZIP_ENTRIES = 10_000
TIME_LIMIT_S = 20.0
GRACE_S = 5.0  # past the time limit, how long to wait for a reader stuck inside one page
CONCURRENT = 2  # conversions at once in the process: a flood of documents waits its turn
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
OLD_OFFICE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
CSV_SUFFIXES = (".csv", ".tsv")
SUPPORTED = "plain text, PDF, DOCX, PPTX, XLSX, HTML and CSV"

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def document_kind(head: bytes, filename: str) -> str:
    """Return what the file is, from its first bytes (the name only tells HTML and CSV from other text)."""
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(OLD_OFFICE_MAGIC):
        return "old-office"
    if head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in CSV_SUFFIXES:
        return "csv"
    return "text"


def decode_text(data: bytes) -> str:
    """Return ``data`` as text (UTF-8, UTF-16 with its mark, GB18030 or Windows-1252), or raise UnreadableDocument.

    ``data`` may stop in the middle of a character: a partial last character is dropped.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return codecs.getincrementaldecoder("utf-16")(errors="replace").decode(data).replace("\x00", "")
    if b"\x00" in data:
        raise UnreadableDocument(f"it is a binary file, not text; read_file reads {SUPPORTED}")
    for encoding in ("utf-8-sig", "gb18030", "cp1252"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\r\f")
        if controls <= len(text[:4096]) // 100:
            return text
    raise UnreadableDocument(f"it is a binary file, not text; read_file reads {SUPPORTED}")


def _read_text(path: Path, budget: TextBudget, kind: str) -> DocumentText:
    # a page is mostly markup, so more of it is read for the same text (still bounded)
    limit = MAX_HTML_BYTES if kind == "html" else budget.max_chars * 4 + 4
    with path.open("rb") as file:
        data = file.read(limit)
        more = bool(file.read(1))
    text = decode_text(data)
    if kind == "html":
        return _html(text, budget, more, path)
    if kind == "csv":
        return _csv(text, budget, more, path)
    budget.add(text)
    return budget.result(path, "text", more=more)


class _HtmlText(HTMLParser):
    """Keeps the text a reader sees: no script, style or head; blocks on their own lines, cells apart."""

    SKIP = frozenset({"script", "style", "head", "template", "noscript", "svg", "title"})
    BLOCKS = frozenset(
        {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre", "hr"}
    )

    MARKS = {
        "li": "- ",
        "h1": "# ",
        "h2": "## ",
        "h3": "### ",
        "h4": "#### ",
        "h5": "##### ",
        "h6": "###### ",
    }

    def __init__(self, budget: TextBudget) -> None:
        super().__init__(convert_charrefs=True)
        self.budget = budget
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.budget.add("\n" + self.MARKS.get(tag, ""))
        elif tag in ("td", "th"):
            self.budget.add(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.budget.add("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.budget.add(" ".join(data.split()) + " ")


def _html(text: str, budget: TextBudget, more: bool, path: Path) -> DocumentText:
    parser = _HtmlText(budget)
    for start in range(0, len(text), 64 * 1024):
        if budget.full:
            break
        parser.feed(text[start : start + 64 * 1024])
    lines = [" ".join(line.split()) for line in budget.text().splitlines()]
    kept = "\n".join(line for line in lines if line)
    return budget.result(path, "html", more=more, text=kept)


def _csv(text: str, budget: TextBudget, more: bool, path: Path) -> DocumentText:
    """Return a CSV file as Markdown table rows (a file that is not quite CSV is kept as text)."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = 0
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            if not budget.add("| " + " | ".join(cell.strip().replace("|", "\\|") for cell in row) + " |\n"):
                break
            if rows == 0:
                budget.add("|" + " --- |" * len(row) + "\n")
            rows += 1
            if rows >= MAX_ROWS:
                budget.cut = True
                break
    except csv.Error:
        fallback = TextBudget(budget.max_chars, budget.deadline)
        fallback.add(text)
        return fallback.result(path, "csv", more=more)
    return budget.result(path, "csv", more=more, unit="rows", read=rows)


def check_zip(path: Path) -> str:
    """Return which Office format a zip file holds (docx, pptx or xlsx), after checking it is safe to open.

    Raises:
        UnreadableDocument: not a zip, too many entries, too large once unpacked, or not an Office file.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableDocument(f"it is a damaged zip or Office file ({exc})") from None
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED:
        raise UnreadableDocument(
            f"it unpacks to more than {MAX_UNZIPPED // (1024 * 1024)} MB or {MAX_ZIP_ENTRIES} entries: refused"
        )
    names = {e.filename for e in entries}
    for marker, kind in (
        ("word/document.xml", "docx"),
        ("ppt/presentation.xml", "pptx"),
        ("xl/workbook.xml", "xlsx"),
    ):
        if marker in names:
            return kind
    raise UnreadableDocument(f"it is a zip archive; read_file reads {SUPPORTED}")


def extract_text(
    path: Path, filename: str = "", max_chars: int = MAX_CHARS, time_limit_s: float = TIME_LIMIT_S
) -> DocumentText:
    """Return the text of the file at ``path`` (blocking: call it in a worker thread).

    Args:
        path: the stored file.
        filename: its name as uploaded (tells HTML and CSV from other text); ``path``'s name if empty.
        max_chars: the most text kept; the result says when the file had more.
        time_limit_s: reading stops at the next page, slide or sheet once this is spent.

    Raises:
        UnreadableDocument: a binary or unsupported file, an encrypted PDF, a damaged or oversized document.
    """
    budget = TextBudget(max_chars, time.monotonic() + time_limit_s)
    with path.open("rb") as file:
        head = file.read(16)
    kind = document_kind(head, filename or path.name)
    if kind == "image":
        raise UnreadableDocument("it is an image; read_file reads text, not pictures")
    if kind == "old-office":
        raise UnreadableDocument(
            "it is an old Office file (.doc, .xls, .ppt); save it as DOCX, XLSX, PPTX or PDF"
        )
    if kind == "zip":
        kind = check_zip(path)
    if kind not in READERS:
        return _read_text(path, budget, kind)
    try:
        return READERS[kind](path, budget)
    except UnreadableDocument:
        raise
    except MemoryError:
        raise UnreadableDocument("it is too large to read") from None
    except Exception as exc:  # a hostile document can make a reader fail in any way: say so, never crash
        raise UnreadableDocument(f"it is a damaged {kind.upper()} file ({type(exc).__name__})") from None


async def read_document(
    path: Path, filename: str = "", max_chars: int = MAX_CHARS, time_limit_s: float = TIME_LIMIT_S
) -> DocumentText:
    """Return the text of a file, converted in a worker thread, a few at a time (see :func:`extract_text`).

    Raises:
        UnreadableDocument: as :func:`extract_text`, or when the conversion takes too long.
    """
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(loop, asyncio.Semaphore(CONCURRENT))
    await slots.acquire()
    task = asyncio.ensure_future(asyncio.to_thread(extract_text, path, filename, max_chars, time_limit_s))
    # the slot is free only when the thread is: a conversion given up on still holds it until it ends
    task.add_done_callback(lambda done: _release(slots, done))
    try:
        # the reader stops itself between pages; this bounds a single page that takes too long
        return await asyncio.wait_for(asyncio.shield(task), time_limit_s + GRACE_S)
    except TimeoutError:
        raise UnreadableDocument(f"reading it took more than {time_limit_s:g}s: stopped") from None


def _release(slots: asyncio.Semaphore, done: asyncio.Future[DocumentText]) -> None:
    """Free a conversion's slot when its thread ends, and collect an outcome nobody waited for."""
    slots.release()
    if not done.cancelled():
        done.exception()
