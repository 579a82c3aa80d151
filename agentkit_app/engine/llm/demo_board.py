"""The offline demo model's side of a board meeting: short, deterministic, in character."""

from __future__ import annotations

import json
import re

from agentkit_app.engine.llm.base import Message

_NAME = re.compile(r"You are ([^,]+),")
_TOPIC = re.compile(r"Topic: (.*)")
_ROUND = re.compile(r"Round (\d+) of")
_SPEAKER = re.compile(r"^\[Round \d+\] ([^:\n]+):", re.MULTILINE)
_USER = "User (the person who convened the board)"
_ANGLES_EN = [
    "I would start from the customer: who gains, and who pays?",
    "The numbers must work: what does it cost, and when does it pay back?",
    "Execution is the real risk: do we have the people and the time?",
    "Let us run a small, cheap experiment before we commit.",
    "Whatever we decide, we should write down what would make us change our mind.",
]
_ANGLES_ZH = [
    "我会从客户出发：谁受益，谁买单？",
    "账要算得过来：成本多少，多久回本？",
    "真正的风险在执行：我们有没有人手和时间？",
    "先做一个小而便宜的试验，再决定是否投入。",
    "无论怎么决定，都要写下什么情况会让我们改变主意。",
]


def _system(messages: list[Message]) -> str:
    return str(messages[0].get("content") or "") if messages else ""


def _user(messages: list[Message]) -> str:
    return str(messages[-1].get("content") or "") if messages else ""


def _previous_speaker(transcript: str, name: str) -> str:
    """Return who spoke last before ``name`` (the user aside), or "" if nobody has."""
    speakers = [s.strip() for s in _SPEAKER.findall(transcript) if s.strip() not in (name, _USER)]
    return speakers[-1] if speakers else ""


def respond(purpose: str, messages: list[Message]) -> str:
    """Answer a board prompt: a speech, a round summary (consensus from round 2) or the conclusion."""
    system, user = _system(messages), _user(messages)
    zh = "Simplified Chinese" in system
    topic_match = _TOPIC.search(user)
    topic = topic_match.group(1).strip() if topic_match else ""
    name_match = _NAME.search(system)
    name = name_match.group(1).strip() if name_match else "Expert"
    if purpose == "board.speech":
        round_match = _ROUND.search(user)
        round_no = int(round_match.group(1)) if round_match else 1
        angles = _ANGLES_ZH if zh else _ANGLES_EN
        angle = angles[(sum(map(ord, name)) + round_no) % len(angles)]
        stepped_in = _USER in user
        previous = _previous_speaker(user, name)  # nobody in round 1: opening statements are written at once
        if zh:
            reply = f"关于“{topic}”，作为{name}：" + (f"{previous}说得有道理。" if previous else "") + angle
            return reply + ("我也听到了您的补充，会把它考虑进去。" if stepped_in else "")
        reply = (
            f'On "{topic}", speaking as {name}: '
            + (f"{previous} made a fair point. " if previous else "")
            + angle
        )
        return reply + (" I also heard your point and take it into account." if stepped_in else "")
    if purpose == "board.summary":
        round_no = max((int(r) for r in re.findall(r"\[Round (\d+)\]", user)), default=1)
        agreed = round_no >= 2
        if zh:
            text = f"第 {round_no} 轮小结：大家都认为应先验证再投入，分歧在于节奏与成本。"
        else:
            text = f"Round {round_no} in short: everyone wants evidence before commitment; they differ on pace and cost."
        return f"{text}\nCONSENSUS: {'yes' if agreed else 'no'}"
    if purpose == "board.conclusion":
        if zh:
            data = {
                "summary": f"董事会围绕“{topic}”讨论了客户价值、成本回报与执行风险。",
                "decision_advice": "先用一个月做小规模试点，设定明确的成功指标，再决定是否扩大投入。",
                "consensus_points": ["先验证再投入", "需要明确的成功指标"],
                "dissent_points": ["推进的节奏", "可接受的成本上限"],
            }
        else:
            data = {
                "summary": f'The board weighed customer value, payback and execution risk of "{topic}".',
                "decision_advice": "Run a one-month pilot with clear success metrics, then decide whether to scale up.",
                "consensus_points": ["Validate before committing", "Define success metrics up front"],
                "dissent_points": ["How fast to move", "How much cost is acceptable"],
            }
        return json.dumps(data, ensure_ascii=False)
    return ""
