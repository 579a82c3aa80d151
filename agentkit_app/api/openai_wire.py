"""OpenAI's chat-completions wire format: the bodies of ``/v1`` and the translation of a run's events into them.

The answer text is the run's final answer. Everything else a run shows on the way (reasoning, tool
calls and results, questions and confirmations, a board's speeches and summaries, a team's phases)
goes into ``reasoning_content``, the field DeepSeek's API added for a model's reasoning, which OpenAI
clients pass through or ignore.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentkit_app.engine import events as ev

SESSION_HEADER = "X-AgentKit-Session"
SKILL_PREFIX = "skill:"
# how much of a tool's arguments and result the reasoning text shows
MAX_STEP_CHARS = 400


class ContentPart(BaseModel):
    """One part of a message's content; only ``text`` parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=64)
    text: str | None = None


class ChatMessage(BaseModel):
    """One message of the request; only the last ``user`` one is run, the session holds the rest."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(max_length=64)
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    """``stream_options``: whether the last chunk reports the usage."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionCreate(BaseModel):
    """Body of ``POST /v1/chat/completions``; sampling options (temperature, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200, description="an agent's name, or skill:NAME")
    messages: list[ChatMessage] = Field(min_length=1, max_length=10_000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    session_id: str | None = Field(
        default=None,
        max_length=64,
        description=f"the session to continue (or the {SESSION_HEADER} header); none: a new session",
    )


class ModelCard(BaseModel):
    """An agent or skill, as OpenAI lists a model."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "agentkit"


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class CompletionUsage(BaseModel):
    """Tokens used by every model call of the run."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class AssistantMessage(BaseModel):
    """The answer: ``content`` is the final answer, ``reasoning_content`` what the run did on the way."""

    role: Literal["assistant"] = "assistant"
    content: str
    reasoning_content: str | None = None


class CompletionChoice(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    """A whole (not streamed) reply of ``POST /v1/chat/completions``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage
    session_id: str = Field(description="the session the conversation is stored in (also a header)")


class ErrorBody(BaseModel):
    """What went wrong, as OpenAI says it."""

    message: str
    type: str
    code: str | None = None
    param: str | None = None
    quota_info: dict[str, Any] | None = None


class ErrorReply(BaseModel):
    """An error of the ``/v1`` routes: ``{"error": {"message", "type", "code"}}``."""

    error: ErrorBody


def text_of(message: ChatMessage) -> str:
    """Return a message's text: its content, or its text parts joined by blank lines."""
    if isinstance(message.content, str):
        return message.content
    return "\n\n".join(part.text for part in message.content or [] if part.type == "text" and part.text)


def usage_of(answer: ev.FinalAnswer | None, calls: list[ev.Usage]) -> CompletionUsage:
    """Return the run's usage: the answer's own figures (a board's or team's whole run), else its calls' sum."""
    figures = answer.metadata.get("usage") if answer is not None else None
    if isinstance(figures, dict) and (figures.get("prompt_tokens") or figures.get("completion_tokens")):
        prompt, completion = (
            int(figures.get("prompt_tokens") or 0),
            int(figures.get("completion_tokens") or 0),
        )
    else:
        prompt = sum(call.prompt_tokens for call in calls)
        completion = sum(call.completion_tokens for call in calls)
    return CompletionUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _clip(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_STEP_CHARS else text[:MAX_STEP_CHARS] + "…"


def progress_text(event: ev.Event, session_id: str) -> str | None:
    """Return the reasoning text that shows a run's step to an OpenAI client, or None for nothing to show."""
    where = f"/api/v1/chat/sessions/{session_id}"
    match event:
        case ev.Thinking(content=content):
            return content
        case ev.Step(event_type="tool_call", data=data):
            return f"\n[tool] {data.get('tool')} {_clip(data.get('arguments') or '')}\n"
        case ev.Step(event_type="tool_result", data=data):
            return f"[result] {_clip(data.get('result') or '')}\n"
        case ev.AskHuman(question=question, request_id=request_id):
            return f"\n[question] {question} (answer: POST {where}/replies/{request_id})\n"
        case ev.ConfirmationRequest(command=command, confirmation_id=cid):
            return f"\n[confirm] {command} (approve or deny: POST {where}/confirmations/{cid})\n"
        case ev.ConfirmationResult(approved=approved):
            return f"[confirm] {'approved' if approved else 'denied'}\n"
        case ev.BoardStarted(topic=topic, experts=experts):
            names = ", ".join(str(e.get("name")) for e in experts)
            return f"[board] {topic} ({names})\n"
        case ev.ExpertSpeech(expert_name=name, round=number, content=content):
            return f"\n[round {number}] {name}: {content}\n"
        case ev.RoundSummary(round=number, content=content):
            return f"\n[round {number} summary] {content}\n"
        case ev.TeamFormed(lead_expert=lead, plan_phases=phases):
            return f"[team] lead {lead}: {', '.join(str(p.get('name')) for p in phases)}\n"
        case ev.PhaseStarted(name=name, expert_name=expert):
            return f"\n[phase] {name} ({expert})\n"
        case ev.PhaseCompleted(name=name, result=result):
            return f"[phase done] {name}: {_clip(result)}\n"
        case ev.PhaseFailed(name=name, error=error):
            return f"[phase failed] {name}: {error}\n"
        case ev.Replanning(reason=reason):
            return f"[replanning] {reason}\n"
    return None


class ChunkWriter:
    """The ``chat.completion.chunk`` objects of one streamed reply, sharing its id, time and model."""

    def __init__(self, model: str, include_usage: bool = False) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        # as OpenAI: with ``stream_options.include_usage`` every chunk has ``usage`` (null but the last)
        self.include_usage = include_usage

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        """Return one chunk: a delta of the one choice."""
        chunk = self._chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def usage_chunk(self, usage: CompletionUsage) -> dict[str, Any]:
        """Return the last chunk of ``stream_options.include_usage``: no choices, the usage."""
        return {**self._chunk([]), "usage": usage.model_dump()}

    def completion(
        self, content: str, reasoning: str, usage: CompletionUsage, session_id: str
    ) -> ChatCompletion:
        """Return the whole reply."""
        message = AssistantMessage(content=content, reasoning_content=reasoning or None)
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[CompletionChoice(message=message)],
            usage=usage,
            session_id=session_id,
        )
