"""What a document reader returns, and the budget it reads within: shared by the readers and their caller."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

MAX_PARTS = 500  # pages, slides or sheets read at most
MAX_ROWS = 5_000  # spreadsheet, table or CSV rows read at most


class UnreadableDocument(Exception):
    """The file cannot be turned into text; the message says why, for the model and the user."""


@dataclass(frozen=True, slots=True)
class DocumentText:
    """The text read from a file, and how much of the file it covers."""

    text: str
    kind: str  # text, pdf, docx, pptx, xlsx, html or csv
    cut: bool = False  # the text stops before the end of the file
    unit: str = ""  # what parts_read counts: pages, slides, sheets, rows (empty: characters only)
    parts_read: int = 0
    parts_total: int = 0
    size: int = 0  # the file's size in bytes
    timed_out: bool = False  # reading stopped at the time limit rather than at the character budget

    def for_model(self) -> str:
        """Return the text, with a last line saying how much was kept when it was cut to fit."""
        if not self.cut:
            return self.text
        kept = f"kept the first {len(self.text):,} characters of this {self.kind} file ({self.size:,} bytes)"
        if self.unit and self.parts_read:
            kept += f", from {self.unit} 1-{self.parts_read}"
            kept += f" of {self.parts_total}" if self.parts_total else ""
        why = " (the time limit was reached)" if self.timed_out else ""
        return f"{self.text}\n[cut to fit: {kept}; the rest was not read{why}]"


class TextBudget:
    """Collects text up to a number of characters and remembers whether some had to be left out."""

    def __init__(self, max_chars: int, deadline: float) -> None:
        self.max_chars = max_chars
        self.deadline = deadline
        self.parts: list[str] = []
        self.size = 0
        self.cut = False
        self.timed_out = False

    @property
    def full(self) -> bool:
        """Whether no more text fits, or the time is up (the text is then cut where it is)."""
        if not self.cut and time.monotonic() > self.deadline:
            self.cut = self.timed_out = True
        return self.cut

    def add(self, text: str) -> bool:
        """Keep ``text`` (or what fits of it); return False once the budget is spent."""
        if self.full:
            return False
        room = self.max_chars - self.size
        if len(text) > room:
            text, self.cut = text[:room], True
        self.parts.append(text)
        self.size += len(text)
        return not self.cut

    def text(self) -> str:
        """Return the text kept."""
        return "".join(self.parts).strip()

    def result(
        self,
        path: Path,
        kind: str,
        *,
        more: bool = False,
        unit: str = "",
        read: int = 0,
        total: int = 0,
        text: str | None = None,
    ) -> DocumentText:
        """Return what was read of the file at ``path``: cut if the budget was, ``more`` is left, or parts were not read.

        Args:
            path: the file read.
            kind: its format.
            more: whether the reader knows it left some of the file unread.
            unit: what ``read`` and ``total`` count (pages, slides, sheets, rows).
            read: how many of them were read.
            total: how many the file has (0: unknown).
            text: the text, if not the budget's own (a reader that tidies it).
        """
        return DocumentText(
            self.text() if text is None else text,
            kind,
            self.cut or more or read < total,
            unit,
            read,
            total,
            path.stat().st_size,
            self.timed_out,
        )
