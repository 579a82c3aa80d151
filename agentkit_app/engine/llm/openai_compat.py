"""A chat model on any OpenAI-compatible ``/chat/completions`` endpoint, streamed over SSE with httpx.

Every failure leaves as :class:`LLMError` with a short message that is safe to show: no API
key, no stack trace, no response dump. ``timeout_s`` bounds connecting and every wait for the
next bytes of the stream, not the length of the whole reply. A call that fails before the
endpoint starts answering (a connection error, 408, 429 or 5xx) is tried again as its
:class:`~agentkit_app.engine.llm.retry.RetryPolicy` allows; once the answer has begun, an error
ends the call, so no text is ever sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from agentkit_app.engine.llm.base import Chunk, LLMError, Message
from agentkit_app.engine.llm.completion_stream import (
    CompletionStreamReader,
    MalformedStream,
    StreamedError,
    error_body_message,
)
from agentkit_app.engine.llm.retry import RetryPolicy, is_retryable_status, retry_after_s
from agentkit_app.engine.llm.sse import SseDataDecoder

log = logging.getLogger(__name__)

_REASON_CHARS = 120
_ERROR_BODY_BYTES = 64_000  # read of an error body, enough for any message worth showing
_MALFORMED = "model endpoint sent a malformed stream"
_INCLUDE_USAGE = {"include_usage": True}
# Streams last long and many run at once: no cap below what the process can hold, and the
# keep-alive pool as large, so a burst of turns does not reconnect for each call.
_POOL_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=1000, keepalive_expiry=30.0)


class OpenAICompatibleModel:
    """Streams chat completions from an OpenAI-compatible endpoint (OpenAI, DeepSeek, vLLM, Ollama ...).

    One HTTP client (and its connection pool) serves every call; close it with :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        default_model: str,
        timeout_s: float,
        label: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Create the model.

        Args:
            base_url: The endpoint's API root, e.g. ``https://api.deepseek.com/v1``.
            api_key: Sent as the bearer token; never appears in an error message.
            default_model: The model asked for when a call names none.
            timeout_s: Seconds allowed to connect and for each wait on the stream.
            label: A name for this model in the UI; the default model's name if not given.
            retry: How calls that fail before answering are retried; by default twice, within
                ``timeout_s`` from the first attempt.
        """
        self.label = label or default_model
        self.default_model = default_model
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._host = urlsplit(base_url).hostname or "endpoint"
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._retry = retry or RetryPolicy(budget_s=timeout_s)
        # Cleared once the endpoint turns down ``stream_options`` and answers without it.
        self._send_stream_options = True
        self._client = httpx.AsyncClient(
            headers={
                "Authorization": f"Bearer {api_key or 'not-needed'}",
                "Content-Type": "application/json",
            },
            timeout=httpx.Timeout(timeout_s),
            limits=_POOL_LIMITS,
        )

    async def aclose(self) -> None:
        """Close the HTTP client and its pooled connections."""
        await self._client.aclose()

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
        response = await self._open(messages, tools, model_name)
        reader = CompletionStreamReader(model_name)
        decoder = SseDataDecoder()
        try:
            async for raw in response.aiter_bytes():
                for data in decoder.feed(raw):
                    for delta in reader.read(data):
                        yield delta
                if reader.finished:
                    break
            for data in decoder.flush():
                for delta in reader.read(data):
                    yield delta
            if not reader.received:  # e.g. a plain JSON body where an event stream was asked for
                raise MalformedStream
            calls = reader.tool_calls()
        except MalformedStream as exc:
            raise LLMError(_MALFORMED) from exc
        except StreamedError as exc:
            raise LLMError(f"model endpoint error: {self._clean(str(exc))}") from exc
        except httpx.TimeoutException as exc:
            raise LLMError(self._timed_out()) from exc
        except httpx.TransportError as exc:
            raise LLMError("model endpoint closed the stream early") from exc
        except httpx.DecodingError as exc:
            raise LLMError(_MALFORMED) from exc
        finally:
            await response.aclose()
        if calls is not None:
            yield calls
        yield reader.usage(sum(len(str(m.get("content") or "")) for m in messages))

    async def _open(
        self, messages: list[Message], tools: list[dict[str, Any]] | None, model: str
    ) -> httpx.Response:
        """Start the streamed call and return the response once the endpoint has accepted it.

        A call that fails before the endpoint answers is retried as the retry policy allows. An
        endpoint that does not know ``stream_options`` answers 400 (or 422); the call is then
        sent once more without them, which tells that apart from a request that is bad for
        another reason, and only a call that succeeds so makes the model stop sending them.
        """
        request: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if tools:
            request["tools"] = tools
        with_options = self._send_stream_options
        started = time.monotonic()
        retries = 0
        while True:
            asked_s: float | None = None
            cause: Exception | None = None
            try:
                payload = {**request, "stream_options": _INCLUDE_USAGE} if with_options else request
                response = await self._client.send(
                    self._client.build_request("POST", self._url, content=orjson.dumps(payload)), stream=True
                )
            except httpx.TimeoutException as exc:
                raise LLMError(self._timed_out()) from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                cause = exc
                failure = f"model endpoint unreachable: {self._host} ({self._cause(exc)})"
            except httpx.HTTPError as exc:
                raise LLMError(f"model endpoint unreachable: {self._host} ({self._cause(exc)})") from exc
            else:
                if response.status_code < 400:
                    if not with_options:
                        self._send_stream_options = False
                    return response
                status = response.status_code
                failure = await self._describe_status(response)
                if status in (400, 422) and with_options:
                    with_options = False
                    continue
                if not is_retryable_status(status):
                    raise LLMError(failure)
                asked_s = retry_after_s(response.headers.get("retry-after"))
            delay = self._retry.delay_s(retries, asked_s, time.monotonic() - started)
            if delay is None:
                raise LLMError(failure) from cause
            retries += 1
            log.warning("%s: retry %d of %d in %.2fs", failure, retries, self._retry.max_retries, delay)
            await asyncio.sleep(delay)

    def _timed_out(self) -> str:
        return f"model endpoint timed out after {self.timeout_s:g}s"

    async def _describe_status(self, response: httpx.Response) -> str:
        """Read (the start of) an error response, close it, and return its short, key-free message."""
        status = response.status_code
        body = b""
        try:
            async for part in response.aiter_bytes():
                body += part
                if len(body) >= _ERROR_BODY_BYTES:
                    break
        except httpx.HTTPError:
            pass  # the status alone says enough
        finally:
            await response.aclose()
        if status in (401, 403):
            return "model endpoint rejected the API key"
        reason = error_body_message(body) or response.reason_phrase or "no reason given"
        return f"model endpoint error {status}: {self._clean(reason)}"

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
