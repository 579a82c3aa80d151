"""PDF, DOCX, PPTX and XLSX as text, through pypdf, python-docx, python-pptx and openpyxl.

Each reader takes a file :func:`.documents.check_zip` has already found safe to open (PDFs go
straight in: pypdf bounds what one stream may unpack), adds text to a
:class:`.document_text.TextBudget` and stops when it is full, out of time, or past the page, slide,
sheet or row caps. They are imported when first needed: a process that never reads a document
never loads them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from agentkit_app.engine.tools.document_text import (
    MAX_PARTS,
    MAX_ROWS,
    DocumentText,
    TextBudget,
    UnreadableDocument,
)

MAX_COLUMNS = 200  # spreadsheet columns read at most (a sheet may claim 16,384)
MAX_SCANNED_ROWS = 100_000  # spreadsheet rows looked at, empty ones included
MAX_SHAPE_DEPTH = 8  # groups of shapes inside groups


def table_line(cells: Iterable[object]) -> str:
    """Return one table row as a Markdown line (empty cells kept, trailing ones dropped)."""
    values = ["" if v is None else " ".join(str(v).split()).replace("|", "\\|") for v in cells]
    while values and not values[-1]:
        values.pop()
    return "| " + " | ".join(values) + " |\n" if values else ""


def _pdf(path: Path, budget: TextBudget) -> DocumentText:
    from pypdf import PdfReader

    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        try:
            opened = bool(reader.decrypt(""))  # many PDFs are "encrypted" with an empty password
        except Exception:  # noqa: BLE001 - an unknown cipher or a damaged dictionary: not readable either way
            opened = False
        if not opened:
            raise UnreadableDocument("it is an encrypted PDF that needs a password")
    total = len(reader.pages)
    read = 0
    for index in range(min(total, MAX_PARTS)):
        if budget.full:
            break
        text = reader.pages[index].extract_text() or ""
        read += 1
        if text.strip() and not budget.add(text.strip() + "\n\n"):
            break
    if total and read == total and not budget.text():
        raise UnreadableDocument(
            "this PDF has no text layer (a scan?); read_file cannot read pictures of text"
        )
    return budget.result(path, "pdf", unit="pages", read=read, total=total)


def _docx(path: Path, budget: TextBudget) -> DocumentText:
    from docx import Document
    from docx.table import Table

    rows = 0
    for block in Document(str(path)).iter_inner_content():
        if budget.full:
            break
        if isinstance(block, Table):
            for row in block.rows:
                rows += 1
                if rows > MAX_ROWS or not budget.add(table_line(cell.text for cell in row.cells)):
                    budget.cut = True
                    break
            budget.add("\n")
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = style.removeprefix("Heading ").strip()
        mark = "#" * int(level) + " " if style.startswith("Heading ") and level.isdigit() else ""
        if block.text.strip():
            budget.add(f"{mark}{block.text.strip()}\n\n")
    return budget.result(path, "docx")


def _shape_texts(shapes: Iterable[Any], depth: int = 0) -> Iterator[str]:
    """Yield the text of each shape of a slide: text boxes, tables, and the shapes inside groups."""
    for shape in shapes:
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
        if getattr(shape, "has_table", False) and shape.has_table:
            yield "".join(table_line(cell.text for cell in row.cells) for row in shape.table.rows)
        if depth < MAX_SHAPE_DEPTH and hasattr(shape, "shapes"):  # a group
            yield from _shape_texts(shape.shapes, depth + 1)


def _pptx(path: Path, budget: TextBudget) -> DocumentText:
    from pptx import Presentation

    slides = Presentation(str(path)).slides
    total, read = len(slides), 0
    for number, slide in enumerate(slides, 1):
        if number > MAX_PARTS or budget.full:
            break
        read = number
        budget.add(f"## Slide {number}\n")
        for text in _shape_texts(slide.shapes):
            if text.strip():
                budget.add(text.strip() + "\n")
        if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame):
            if notes.text.strip():
                budget.add(f"Notes: {notes.text.strip()}\n")
        budget.add("\n")
    return budget.result(path, "pptx", unit="slides", read=read, total=total)


def _xlsx(path: Path, budget: TextBudget) -> DocumentText:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = book.worksheets
        total, read, kept, scanned = len(sheets), 0, 0, 0
        for sheet in sheets[:MAX_PARTS]:
            if budget.full:
                break
            read += 1
            budget.add(f"## Sheet: {sheet.title}\n")
            width = min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS)
            for row in sheet.iter_rows(max_col=width, values_only=True):
                scanned += 1
                line = table_line(row)
                if line:
                    kept += 1
                if scanned > MAX_SCANNED_ROWS or kept > MAX_ROWS or (line and not budget.add(line)):
                    budget.cut = True
                    break
            budget.add("\n")
    finally:
        book.close()
    return budget.result(path, "xlsx", unit="sheets", read=read, total=total)


READERS: dict[str, Callable[[Path, TextBudget], DocumentText]] = {
    "pdf": _pdf,
    "docx": _docx,
    "pptx": _pptx,
    "xlsx": _xlsx,
}
