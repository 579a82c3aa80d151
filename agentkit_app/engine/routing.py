"""Which way a user message goes: agents and skills, greetings, ``@skill:NAME``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_GREETINGS = {
    "hi", "hello", "hey", "hiya", "yo", "good morning", "good afternoon", "good evening",
    "你好", "您好", "嗨", "哈喽", "早上好", "晚上好", "下午好", "在吗", "thanks", "thank you", "谢谢",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """A named assistant: its prompt, default model and the tools it may call."""

    name: str
    display_name: str
    description: str
    system_prompt: str
    tools: list[str] = field(default_factory=list)
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Skill:
    """A named bundle of prompt, tools and model that a message can select."""

    name: str
    description: str
    prompt: str
    tools: list[str] = field(default_factory=list)
    model: str | None = None
    triggers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SkillChoice:
    """A skill chosen for a message, how, and the message without its prefix."""

    skill: Skill
    method: str
    confidence: float
    content: str


class UnknownSkillError(ValueError):
    """``@skill:NAME`` named no known skill."""


def is_greeting(text: str) -> bool:
    """Return whether the message is a bare greeting (answered by direct chat, no tools)."""
    cleaned = re.sub(r"[\s!！。.,，~～?？:)）(（]+$", "", text.strip().casefold())
    return cleaned in _GREETINGS


def choose_skill(text: str, skills: list[Skill]) -> SkillChoice | None:
    """Return the skill a message selects by ``@skill:NAME`` prefix or trigger word, if any."""
    match = re.match(r"\s*@skill:([\w.-]+)\s*", text)
    by_name = {s.name.casefold(): s for s in skills}
    if match:
        skill = by_name.get(match.group(1).casefold())
        if skill is None:
            raise UnknownSkillError(f"unknown skill: {match.group(1)}")
        return SkillChoice(skill, "prefix", 1.0, text[match.end() :].strip())
    lowered = text.casefold()
    for skill in skills:
        if any(trigger.casefold() in lowered for trigger in skill.triggers):
            return SkillChoice(skill, "trigger", 0.7, text.strip())
    return None
