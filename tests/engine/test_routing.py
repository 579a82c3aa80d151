"""Greetings and skills."""

from __future__ import annotations

import pytest

from agentkit_app.engine.routing import Skill, UnknownSkillError, choose_skill, is_greeting

SKILLS = [
    Skill("translate", "t", "p", triggers=["translate:"]),
    Skill("math", "m", "p", tools=["calculator"]),
]


@pytest.mark.parametrize("text", ["hi", "Hello!", "你好", "  hey  ", "您好！"])
def test_bare_greetings_are_recognised(text):
    assert is_greeting(text)


@pytest.mark.parametrize("text", ["hi, what is 2+2?", "hello world program in rust", "say hi"])
def test_greetings_with_a_question_are_not(text):
    assert not is_greeting(text)


def test_skill_prefix_is_stripped():
    choice = choose_skill("@skill:math what is 2+2", SKILLS)
    assert choice.skill.name == "math" and choice.method == "prefix" and choice.content == "what is 2+2"


def test_skill_trigger_matches():
    assert choose_skill("translate: 你好", SKILLS).method == "trigger"


def test_unknown_skill_is_named():
    with pytest.raises(UnknownSkillError, match="nope"):
        choose_skill("@skill:nope hi", SKILLS)
