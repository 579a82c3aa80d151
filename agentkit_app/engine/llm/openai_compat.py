"""A chat model on any OpenAI-compatible ``/chat/completions`` endpoint, streamed over SSE.

Every failure leaves as :class:`LLMError` with a short message that is safe to show: no API
key, no stack trace, no response dump. ``timeout_s`` bounds connecting and every wait for the
next bytes of the stream, not the length of the whole reply.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import openai

from agentkit_app.engine.llm.base import (
    Chunk,
    LLMError,
    Message,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCalls,
    UsageInfo,
)

_REASON_CHARS = 120
_MALFORMED = "model endpoint sent a malformed stream"


class _MalformedStream(Exception):
    """A chunk of the stream does not have the shape of a ``chat.completion.chunk``."""


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

    def add(self, delta: Any) -> None:
        """Fold one tool-call delta into the calls being assembled."""
        index = getattr(delta, "index", None)
        call_id = getattr(delta, "id", None) or ""
        function = getattr(delta, "function", None)
        name = getattr(function, "name", None) or ""
        arguments = getattr(function, "arguments", None) or ""
        if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, str):
            raise _MalformedStream
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
            raise _MalformedStream
        return ToolCalls(
            tuple(
                ToolCall(pending.id or f"call_{i}", pending.name, "".join(pending.arguments) or "{}")
                for i, pending in enumerate(self._calls)
            )
        )


class OpenAICompatibleModel:
    """Streams chat completions from an OpenAI-compatible endpoint (OpenAI, DeepSeek, vLLM, Ollama ...).

    One client (and its connection pool) serves every call; close it with :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        default_model: str,
        timeout_s: float,
        label: str | None = None,
    ) -> None:
        """Create the model.

        Args:
            base_url: The endpoint's API root, e.g. ``https://api.deepseek.com/v1``.
            api_key: Sent as the bearer token; never appears in an error message.
            default_model: The model asked for when a call names none.
            timeout_s: Seconds allowed to connect and for each wait on the stream.
            label: A name for this model in the UI; the default model's name if not given.
        """
        self.label = label or default_model
        self.default_model = default_model
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._host = urlsplit(base_url).hostname or "endpoint"
        # Cleared once the endpoint turns down ``stream_options`` and answers without it.
        self._send_stream_options = True
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=0
        )

    async def aclose(self) -> None:
        """Close the HTTP client and its pooled connections."""
        await self._client.close()

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Yield the reply as text and reasoning deltas, then its tool calls, then its usage.

        Args:
            messages: The conversation in OpenAI message format.
            tools: Tool schemas in OpenAI ``tools`` format, or None for a plain answer.
            model: The model to ask for; :attr:`default_model` if None.
            purpose: Ignored; a real endpoint answers every purpose the same way.

        Raises:
            LLMError: The endpoint could not be reached, refused the call, timed out or sent
                something that is not a chat completion stream.
        """
        model_name = model or self.default_model
        stream = await self._open(messages, tools, model_name)
        calls = _ToolCallAssembler()
        usage: UsageInfo | None = None
        reported_model = ""
        produced: list[str] = []
        assembled: ToolCalls | None = None
        received = False
        try:
            async for chunk in stream:
                received = True
                try:
                    reported_model = reported_model or _text(getattr(chunk, "model", None))
                    usage = _usage(getattr(chunk, "usage", None), reported_model or model_name) or usage
                    choices = getattr(chunk, "choices", None)
                    if not isinstance(choices, list):
                        raise _MalformedStream
                    deltas = [getattr(choice, "delta", None) for choice in choices[:1]]
                    out: list[TextDelta | ReasoningDelta] = []
                    for delta in deltas:
                        if delta is None:
                            continue
                        reasoning = _reasoning(delta)
                        if reasoning:
                            out.append(ReasoningDelta(reasoning))
                        content = _text(getattr(delta, "content", None))
                        if content:
                            out.append(TextDelta(content))
                        for call_delta in getattr(delta, "tool_calls", None) or []:
                            calls.add(call_delta)
                except (_MalformedStream, AttributeError, TypeError, ValueError) as exc:
                    raise LLMError(_MALFORMED) from exc
                for item in out:
                    produced.append(item.content)
                    yield item
            if not received:  # e.g. a plain JSON body where an event stream was asked for
                raise LLMError(_MALFORMED)
            try:
                assembled = calls.result()
            except _MalformedStream as exc:
                raise LLMError(_MALFORMED) from exc
        except LLMError:
            raise
        except ValueError as exc:  # a data line that is not JSON
            raise LLMError(_MALFORMED) from exc
        except openai.APIConnectionError as exc:
            if isinstance(exc, openai.APITimeoutError):
                raise LLMError(self._timed_out()) from exc
            raise LLMError("model endpoint closed the stream early") from exc
        except openai.OpenAIError as exc:
            raise LLMError(self._describe(exc)) from exc
        finally:
            await stream.close()
        if assembled is not None:
            produced.extend(call.name + call.arguments for call in assembled.calls)
            yield assembled
        yield usage or UsageInfo(
            prompt_tokens=_estimate_tokens(str(m.get("content") or "") for m in messages),
            completion_tokens=_estimate_tokens(produced),
            model=reported_model or model_name,
        )

    async def _open(
        self, messages: list[Message], tools: list[dict[str, Any]] | None, model: str
    ) -> openai.AsyncStream[Any]:
        """Start the streamed call, once more without ``stream_options`` if the endpoint rejects them.

        Endpoints that do not know ``stream_options`` answer 400 (or 422); the retry tells that
        apart from a request that is bad for another reason, and only a retry that succeeds makes
        the model stop sending them.
        """
        request: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if tools:
            request["tools"] = tools
        with_options = self._send_stream_options
        try:
            try:
                return await self._create(request, with_options)
            except (openai.BadRequestError, openai.UnprocessableEntityError):
                if not with_options:
                    raise
            stream = await self._create(request, False)
            self._send_stream_options = False
            return stream
        except openai.OpenAIError as exc:
            raise LLMError(self._describe(exc)) from exc

    async def _create(self, request: dict[str, Any], with_options: bool) -> openai.AsyncStream[Any]:
        extra = {"stream_options": {"include_usage": True}} if with_options else {}
        # the request is assembled at run time (model, messages, tools, stream): no overload can match a dict
        stream = await self._client.chat.completions.create(**request, **extra)  # type: ignore[call-overload]
        return cast("openai.AsyncStream[Any]", stream)

    def _timed_out(self) -> str:
        return f"model endpoint timed out after {self.timeout_s:g}s"

    def _describe(self, exc: openai.OpenAIError) -> str:
        """Return the short, key-free message for an error of the OpenAI client."""
        if isinstance(exc, openai.APITimeoutError):
            return self._timed_out()
        if isinstance(exc, openai.APIConnectionError):
            return f"model endpoint unreachable: {self._host} ({self._cause(exc)})"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return "model endpoint rejected the API key"
        if isinstance(exc, openai.APIStatusError):
            reason = _body_message(exc.body) or exc.response.reason_phrase or "no reason given"
            return f"model endpoint error {exc.status_code}: {self._clean(reason)}"
        if isinstance(exc, openai.APIError):
            return f"model endpoint error: {self._clean(_body_message(exc.body) or exc.message)}"
        return f"model endpoint error: {type(exc).__name__}"

    def _cause(self, exc: BaseException) -> str:
        """Return why a connection failed in a few words, from the chain of underlying errors."""
        chain: list[BaseException] = []
        current: BaseException | None = exc
        while current is not None and len(chain) < 10:
            chain.append(current)
            current = current.__cause__ or current.__context__
        if any(isinstance(e, ConnectionRefusedError) for e in chain):
            return "connection refused"
        if any(isinstance(e, socket.gaierror) for e in chain):
            return "unknown host"
        innermost = chain[-1]
        return self._clean(str(innermost) or type(innermost).__name__, 60)

    def _clean(self, text: str, limit: int = _REASON_CHARS) -> str:
        """Return text on one line, cut to ``limit`` characters, with the API key masked."""
        if self._api_key and len(self._api_key) >= 4:
            text = text.replace(self._api_key, "***")
        text = re.sub(r"\s+", " ", text).strip()
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _MalformedStream
    return value


def _reasoning(delta: Any) -> str:
    """Return the reasoning text of a delta (``reasoning_content`` as DeepSeek sends it, or ``reasoning``)."""
    extra = getattr(delta, "model_extra", None) or {}
    for key in ("reasoning_content", "reasoning"):
        value = extra.get(key, getattr(delta, key, None))
        if isinstance(value, str) and value:
            return value
    return ""


def _usage(raw: Any, model: str) -> UsageInfo | None:
    """Return the token figures of a usage object, or None if it lacks them."""
    prompt = getattr(raw, "prompt_tokens", None)
    completion = getattr(raw, "completion_tokens", None)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return UsageInfo(prompt_tokens=prompt, completion_tokens=completion, model=model)


def _estimate_tokens(texts: Any) -> int:
    """Return a rough token count (four characters a token) for endpoints that report no usage."""
    return sum(len(text) for text in texts) // 4


def _body_message(body: object) -> str:
    """Return the human-readable message of an error body, if it has one."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("message", "detail", "msg"):
                if isinstance(inner.get(key), str) and inner[key]:
                    return inner[key]
        elif isinstance(inner, str):
            return inner
    return ""
