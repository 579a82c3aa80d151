"""Server-sent events: the ``data`` of each event in a byte stream, split by hand for speed.

Only what a chat completion stream needs is kept: ``data`` lines (several lines of one event are
joined with ``\\n``), comments and other fields are skipped, a blank line ends an event. Lines end
with ``\\n``, ``\\r\\n`` or ``\\r``, and may be cut anywhere between two network reads.
"""

from __future__ import annotations


class SseDataDecoder:
    """Turns the bytes of an event stream, as they arrive, into the data of each complete event.

    Feed every network read to :meth:`feed`, then call :meth:`flush` once the stream ends.
    """

    __slots__ = ("_data", "_tail")

    def __init__(self) -> None:
        """Start with no event pending."""
        self._tail = b""  # the start of a line whose end has not arrived yet
        self._data: list[bytes] = []  # the data lines of the event being read

    def feed(self, chunk: bytes) -> list[bytes]:
        """Take the next bytes of the stream.

        Args:
            chunk: Bytes as read from the network.

        Returns:
            The data of every event these bytes completed, in order; usually zero or one.
        """
        if not chunk:
            return []
        if self._tail:
            chunk = self._tail + chunk
        lines = chunk.splitlines()
        last = chunk[-1:]
        if last == b"\n":
            self._tail = b""
        elif last == b"\r":  # perhaps the first half of ``\r\n``: wait for the next byte
            self._tail = lines.pop() + b"\r"
        else:
            self._tail = lines.pop()
        return self._take(lines)

    def flush(self) -> list[bytes]:
        """Return the data of an event the stream left unfinished (no blank line after it), if any."""
        lines = self._tail.splitlines()
        self._tail = b""
        lines.append(b"")
        return self._take(lines)

    def _take(self, lines: list[bytes]) -> list[bytes]:
        events: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
        return events
