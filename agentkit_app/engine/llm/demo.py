"""The offline demo model: deterministic answers so the app works with no LLM endpoint.

It reads the conversation like a (very literal) assistant: arithmetic goes to the
calculator, "run `cmd`" to the shell tool, an attached file to the file reader; board and
team prompts are answered by their own responders. Under plan-execute (the system prompt
names the current phase) it plans in one line, runs its tool, and answers in the last
phase. Every answer streams word by word.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncGenerator
from typing import Any

from agentkit_app.engine.i18n import has_cjk
from agentkit_app.engine.llm import demo_board, demo_team
from agentkit_app.engine.llm.base import Chunk, Message, TextDelta, ToolCall, ToolCalls, UsageInfo

DEMO_MODEL_NAME = "offline-demo"
DEMO_LABEL = "offline demo model"
_ARITHMETIC = re.compile(r"[-(]*\d+(?:\.\d+)?(?:\s*(?:\*\*|[-+*/×÷^%])\s*[-(]*\d+(?:\.\d+)?\)*)+")
_SHELL = re.compile(r"(?:run|execute|运行|执行)\s*[:：]?\s*`([^`]+)`", re.IGNORECASE)
_FILE = re.compile(r"\[file:\s*([A-Za-z0-9._-]+)")
_TIME = re.compile(
    r"\b(what time|current time|date today|time is it)\b|几点|现在时间|今天几号", re.IGNORECASE
)
_ASK = re.compile(r"\bask me\b|问我", re.IGNORECASE)
_PHASE = re.compile(r"^Current phase: (\S+)", re.MULTILINE)
_ADVANCE = "advance_phase"
_LONG = re.compile(r"\b(long|story|essay|detailed)\b|长文|故事|详细", re.IGNORECASE)

_LOREM_EN = (
    "Once upon a time a small team built a workspace where agents could think out loud, call tools "
    "and ask before doing anything dangerous. Every answer streamed word by word so nobody had to "
    "stare at a blank screen. "
)
_LOREM_ZH = "从前，有一个小团队打造了一个工作空间，智能体可以边想边说、调用工具，并在做危险操作前先征求同意。每个回答都逐字流式输出。"


def _last_user(messages: list[Message]) -> str:
    return next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")


def _tool_name(messages: list[Message], call_id: str) -> str:
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call.get("id") == call_id:
                return str(call["function"]["name"])
    return ""


def _turn_results(messages: list[Message]) -> list[tuple[str, Message]]:
    """Return this turn's tool results (after the last user message) with their tool names."""
    start = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1) + 1
    results = [m for m in messages[start:] if m.get("role") == "tool"]
    return [(_tool_name(messages, str(m.get("tool_call_id"))), m) for m in results]


def _after_tool(messages: list[Message], results: list[tuple[str, Message]] | None = None) -> str:
    """Answer from tool results: given ones, or those that follow the last assistant tool call."""
    zh = has_cjk(_last_user(messages))
    if results is None:
        trailing = list(itertools.takewhile(lambda m: m.get("role") == "tool", messages[::-1]))[::-1]
        results = [(_tool_name(messages, str(m.get("tool_call_id"))), m) for m in trailing]
    parts: list[str] = []
    for name, message in results:
        result = str(message.get("content") or "")
        if name == "calculator":
            parts.append(f"计算结果是 **{result}**。" if zh else f"The result is **{result}**.")
        elif name == "shell":
            if result.startswith(("The user denied", "用户拒绝")):
                parts.append(
                    "您拒绝了该命令，所以我没有运行它。"
                    if zh
                    else "You denied the command, so I did not run it."
                )
            else:
                head = "命令已运行，输出如下：" if zh else "I ran the command. Its output:"
                parts.append(f"{head}\n\n```\n{result}\n```")
        elif name == "read_file":
            lines = result.splitlines()
            preview = "\n".join(f"> {line}" for line in lines[:5])
            summary = (
                f"文件共 {len(lines)} 行、{len(result)} 个字符。开头是：" if zh
                else f"The file has {len(lines)} lines and {len(result)} characters. It begins:"
            )  # fmt: skip
            parts.append(f"{summary}\n\n{preview}")
        elif name == "current_time":
            parts.append(f"现在是 {result}（UTC）。" if zh else f"It is now {result} (UTC).")
        elif name == "ask_human":
            parts.append(f"谢谢！您的回答是：{result}" if zh else f"Thanks! You answered: {result}")
        else:
            parts.append(result)
    return "\n\n".join(parts)


def _tool_request(text: str, tools: set[str]) -> tuple[str, dict[str, Any]] | None:
    """Return the tool call a message clearly asks for, if any."""
    if "shell" in tools and (match := _SHELL.search(text)):
        return "shell", {"command": match.group(1), "reason": "requested in the message"}
    if "read_file" in tools and (match := _FILE.search(text)):
        return "read_file", {"stored_name": match.group(1)}
    if "calculator" in tools and (match := _ARITHMETIC.search(text)):
        return "calculator", {"expression": match.group(0).strip()}
    if "current_time" in tools and _TIME.search(text):
        return "current_time", {}
    if "ask_human" in tools and _ASK.search(text):
        question = "您希望我怎么称呼您？" if has_cjk(text) else "What should I call you?"
        return "ask_human", {"question": question}
    return None


def _phase_reply(
    messages: list[Message], tools: set[str], phase: str
) -> tuple[str, tuple[str, dict[str, Any]] | None]:
    """Plan-execute: plan in one line, run the tool the message asks for once, answer in the last phase."""
    text = _last_user(messages)
    zh = has_cjk(text)
    results = [(name, m) for name, m in _turn_results(messages) if name != _ADVANCE]
    if _ADVANCE not in tools:  # the last phase
        return (_after_tool(messages, results) if results else _chat_answer(text)), None
    request = _tool_request(text, tools - {_ADVANCE})
    if request and request[0] not in {name for name, _ in results}:
        return "", request
    note = ""
    if phase == "plan":
        planned = _tool_request(text, {"shell", "read_file", "calculator", "current_time", "ask_human"})
        if planned:
            note = (
                f"计划：先用 {planned[0]} 工具，核对结果后作答。" if zh
                else f"Plan: use the {planned[0]} tool, check the result, then answer."
            )  # fmt: skip
        else:
            note = "计划：无需工具，直接作答。" if zh else "Plan: no tool is needed; answer directly."
    elif phase == "verify":
        note = "核对完毕。" if zh else "Checked: the answer follows from the results above."
    return note, (_ADVANCE, {})


def _chat_answer(text: str) -> str:
    zh = has_cjk(text)
    if _LONG.search(text):
        return (_LOREM_ZH * 12) if zh else (_LOREM_EN * 10).strip()
    if zh:
        return (
            f"（离线演示模型）您说：“{text.strip()[:200]}”。我是内置的离线演示模型，没有连接真实的大语言模型。"
            "试试：计算 (3 + 4) * 12、运行 `ls`、上传文件让我读取，或者 @board 和 @team。"
        )
    return (
        f'(offline demo model) You said: "{text.strip()[:200]}". I am the built-in offline demo model, '
        "not a real language model. Try: what is (3 + 4) * 12, run `ls`, attach a file for me to read, "
        "or start a discussion with @board or a task with @team."
    )


def _title(messages: list[Message]) -> str:
    """Title a conversation after its question: whole if short, else cut at a word."""
    text = _last_user(messages)
    found = re.search(r"^User: (.*)$", text, re.MULTILINE)
    question = re.sub(r"\s+", " ", found.group(1) if found else text).strip()
    if len(question) <= 40:
        return question
    cut = question[:40].rsplit(" ", 1)[0] if " " in question[:40] else question[:40]
    return cut.rstrip(" ,.;:") + "…"


class DemoModel:
    """A deterministic stand-in for an LLM, labelled as the offline demo model."""

    label = DEMO_LABEL

    def __init__(self, word_delay_s: float = 0.03) -> None:
        self.word_delay_s = word_delay_s
        self._ids = itertools.count(1)

    def reply_for(
        self, messages: list[Message], tools: list[dict[str, Any]] | None, purpose: str
    ) -> tuple[str, tuple[str, dict[str, Any]] | None]:
        """Return the text and the optional tool call this model answers with."""
        if purpose.startswith("board."):
            return demo_board.respond(purpose, messages), None
        if purpose.startswith("team."):
            return demo_team.respond(purpose, messages), None
        if purpose == "title":
            return _title(messages), None
        names = {t["function"]["name"] for t in tools or []}
        system = messages[0].get("content") if messages and messages[0].get("role") == "system" else ""
        if phase := _PHASE.search(str(system or "")):
            return _phase_reply(messages, names, phase.group(1))
        if messages and messages[-1].get("role") == "tool":
            return _after_tool(messages), None
        text = _last_user(messages)
        request = _tool_request(text, names)
        if request:
            return "", request
        return _chat_answer(text), None

    async def stream(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]] | None = None,
        model: str | None = None,
        purpose: str = "chat",
    ) -> AsyncGenerator[Chunk, None]:
        """Stream the deterministic reply word by word."""
        text, request = self.reply_for(messages, tools, purpose)
        words = re.findall(r"\S+\s*|\s+", text) if not has_cjk(text) else re.findall(r".{1,3}", text, re.S)
        for word in words:
            if self.word_delay_s:
                await asyncio.sleep(self.word_delay_s)
            yield TextDelta(word)
        if request:
            name, args = request
            yield ToolCalls(
                (ToolCall(f"demo_{next(self._ids)}", name, json.dumps(args, ensure_ascii=False)),)
            )
        yield UsageInfo(
            prompt_tokens=sum(len(str(m.get("content") or "")) for m in messages) // 4,
            completion_tokens=len(words),
            model=DEMO_MODEL_NAME,
        )
