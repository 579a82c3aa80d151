"""The events of a streamed chat completion (``chat.completion.chunk`` JSON) read into chunks.

Each event is parsed into plain dicts and lists (orjson) and read with as little work as a token
allows: one dict parse, a few lookups, one delta object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from agentkit_app.engine.llm.base import ReasoningDelta, TextDelta, ToolCall, ToolCalls, UsageInfo

Delta = TextDelta | ReasoningDelta
_NOTHING: tuple[Delta, ...] = ()
_DONE = b"[DONE]"


class MalformedStream(Exception):
    """An event of the stream does not have the shape of a ``chat.completion.chunk``."""


class StreamedError(Exception):
    """The endpoint reported an error inside the stream; the message is its reason, not yet cleaned."""


@dataclass
class _PendingCall:
    """One tool call while its deltas arrive."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _ToolCallAssembler:
    """Joins tool-call deltas (id and name first, arguments in pieces) into complete calls.

    Deltas are matched by ``index``; a new ``id`` on an index that already has one starts a new
    call, because some servers number parallel calls all with index 0.
    """

    def __init__(self) -> None:
        self._calls: list[_PendingCall] = []
        self._by_index: dict[int, _PendingCall] = {}

    def add(self, delta: object) -> None:
        """Fold one tool-call delta (a dict of the stream) into the calls being assembled."""
        if not isinstance(delta, dict):
            raise MalformedStream
        index = delta.get("index")
        call_id = delta.get("id") or ""
        function = delta.get("function") or {}
        if not isinstance(function, dict):
            raise MalformedStream
        name = function.get("name") or ""
        arguments = function.get("arguments") or ""
        if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, str):
            raise MalformedStream
        if index is None:
            index = len(self._calls) - 1 if self._calls and not call_id else len(self._calls)
        pending = self._by_index.get(index)
        if pending is None or (call_id and pending.id and call_id != pending.id):
            pending = _PendingCall()
            self._calls.append(pending)
            self._by_index[index] = pending
        if call_id and not pending.id:
            pending.id = call_id
        if name and not pending.name:
            pending.name = name
        if arguments:
            pending.arguments.append(arguments)

    def result(self) -> ToolCalls | None:
        """Return the assembled calls, or None if the reply asked for none."""
        if not self._calls:
            return None
        if any(not pending.name for pending in self._calls):
            raise MalformedStream
        return ToolCalls(
            tuple(
                ToolCall(pending.id or f"call_{i}", pending.name, "".join(pending.arguments) or "{}")
                for i, pending in enumerate(self._calls)
            )
        )


class CompletionStreamReader:
    """Reads the ``data`` of each event of one streamed reply, and keeps what the reply ends with.

    :meth:`read` returns the deltas an event carries; after the stream, :meth:`tool_calls` and
    :meth:`usage` give the rest. Both raise :class:`MalformedStream` for what is not a chat
    completion stream, and :meth:`read` raises :class:`StreamedError` for an error event.
    """

    __slots__ = ("_calls", "_model", "_model_reported", "_usage", "finished", "produced_chars", "received")

    def __init__(self, model: str) -> None:
        """Start reading a reply to a call that asked for ``model``."""
        self._model = model  # the model the endpoint says answered, else the one asked for
        self._model_reported = False
        self._calls = _ToolCallAssembler()
        self._usage: UsageInfo | None = None
        self.finished = False  # ``[DONE]`` arrived
        self.received = False  # at least one event arrived
        self.produced_chars = 0  # of text, reasoning and tool calls, to estimate usage

    def read(self, data: bytes) -> tuple[Delta, ...]:
        """Return the text and reasoning deltas of one event's data, in the order to show them."""
        if self.finished:
            return _NOTHING
        if data == _DONE:
            self.finished = True
            return _NOTHING
        self.received = True
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise MalformedStream from exc
        if not isinstance(event, dict):
            raise MalformedStream
        if event.get("error"):
            raise StreamedError(_body_message(event) or "no reason given")
        if not self._model_reported:
            self._take_model(event.get("model"))
        usage = event.get("usage")
        if usage:
            self._take_usage(usage)
        choices = event.get("choices")
        if not isinstance(choices, list):
            raise MalformedStream
        if not choices:
            return _NOTHING
        choice = choices[0]
        if not isinstance(choice, dict):
            raise MalformedStream
        delta = choice.get("delta")
        if not delta:
            return _NOTHING
        if not isinstance(delta, dict):
            raise MalformedStream
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            if not isinstance(tool_calls, list):
                raise MalformedStream
            for call_delta in tool_calls:
                self._calls.add(call_delta)
        content = delta.get("content")
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if content:
            if not isinstance(content, str):
                raise MalformedStream
            self.produced_chars += len(content)
            if isinstance(reasoning, str) and reasoning:
                self.produced_chars += len(reasoning)
                return (ReasoningDelta(reasoning), TextDelta(content))
            return (TextDelta(content),)
        if isinstance(reasoning, str) and reasoning:
            self.produced_chars += len(reasoning)
            return (ReasoningDelta(reasoning),)
        return _NOTHING

    def tool_calls(self) -> ToolCalls | None:
        """Return the reply's assembled tool calls, or None if it asked for none."""
        calls = self._calls.result()
        if calls is not None:
            self.produced_chars += sum(len(call.name) + len(call.arguments) for call in calls.calls)
        return calls

    def usage(self, prompt_chars: int) -> UsageInfo:
        """Return the reported token figures, or an estimate (four characters a token) if none came.

        Args:
            prompt_chars: The length of the prompt's text, for the estimate.
        """
        return self._usage or UsageInfo(
            prompt_tokens=prompt_chars // 4, completion_tokens=self.produced_chars // 4, model=self._model
        )

    def _take_model(self, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise MalformedStream
        if value:
            self._model = value
            self._model_reported = True

    def _take_usage(self, raw: object) -> None:
        if not isinstance(raw, dict):
            return
        prompt = raw.get("prompt_tokens")
        completion = raw.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            self._usage = UsageInfo(prompt_tokens=prompt, completion_tokens=completion, model=self._model)


def _body_message(body: object) -> str:
    """Return the human-readable message of an error body, if it has one."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "msg"):
                value = inner.get(key)
                if isinstance(value, str) and value:
                    return value
        elif isinstance(inner, str):
            return inner
    return ""


def error_body_message(body: bytes) -> str:
    """Return the human-readable message of an HTTP error's JSON body, or "" if it has none."""
    try:
        return _body_message(orjson.loads(body))
    except orjson.JSONDecodeError:
        return ""
