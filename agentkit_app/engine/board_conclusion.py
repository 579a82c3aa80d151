"""The board's conclusion: reading the moderator's closing reply, and writing it up as the final answer.

:func:`parse_conclusion` takes the reply as JSON or, failing that, reads its prose by sections;
:func:`conclusion_markdown` is the answer stored and shown when the meeting ends.
"""

from __future__ import annotations

import re

from agentkit_app.engine import events as ev
from agentkit_app.engine.i18n import t
from agentkit_app.engine.parsing import json_object

_SECTION_LABELS = {
    "summary": (
        "summary", "discussion summary", "summary of the discussion", "overall summary", "conclusion",
        "总结", "讨论总结", "结论",
    ),
    "decision_advice": (
        "decision advice", "advice", "recommendation", "recommendations", "decision",
        "建议", "决策建议",
    ),
    "consensus_points": (
        "consensus", "consensus points", "points of consensus", "agreement", "agreements", "areas of agreement",
        "共识", "共识点",
    ),
    "dissent_points": (
        "dissent", "dissent points", "points of dissent", "disagreement", "disagreements",
        "areas of disagreement", "open questions", "分歧", "分歧点",
    ),
}  # fmt: skip
_SECTION_OF = {label: key for key, labels in _SECTION_LABELS.items() for label in labels}
_HEADING_MARK = re.compile(r"^(?:#{1,6}\s*|\d{1,2}\s*[.)、]\s*|[一二三四五六七八九十]\s*[、.]\s*)+")
_LABEL_AND_REST = re.compile(r"^(?P<label>[^:：]{1,40}?)\s*[:：]\s*(?P<rest>.*)$")
_BULLET = re.compile(r"^\s*(?:[-*+•·]|\d{1,2}\s*[.)、])\s+(?P<point>.+)$")
_NOTHING = {"", "none", "(none)", "n/a", "无", "（无）", "(无)"}


def _heading(line: str) -> tuple[str, str] | None:
    """Return (section, text after the heading) if the line is a conclusion heading, else None."""
    text = _HEADING_MARK.sub("", line.strip())
    found = _LABEL_AND_REST.match(text)
    label, rest = (found.group("label"), found.group("rest")) if found else (text, "")
    label = " ".join(label.strip("*_【】[]（）() \t").split()).casefold()
    section = _SECTION_OF.get(label)
    return (section, rest.strip().lstrip("*_").strip()) if section else None


def _prose(lines: list[str]) -> str:
    return "\n".join(lines).strip()


def _bullets(lines: list[str]) -> list[str]:
    """Return a section's points: its bullet lines, or each non-empty line if it has no bullets."""
    bullets = [m.group("point") for m in map(_BULLET.match, lines) if m]
    points = [p.strip().strip("*_").strip() for p in bullets or lines]
    return [p for p in points if p.casefold() not in _NOTHING]


def _text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(str(v).strip() for v in value if str(v).strip())
    return "" if value is None else str(value).strip()


def _points(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []


def parse_conclusion(raw: str, total_rounds: int) -> ev.BoardConcluded:
    """Return the conclusion a moderator's closing reply holds, whatever shape it came in.

    The reply should be a JSON object; failing that its prose is read by sections ("Summary",
    "Decision advice", "Consensus", "Dissent", or 总结, 决策建议, 共识点, 分歧点) with bullet lines
    as points; failing that the whole reply becomes the summary.
    """
    data = json_object(raw)
    if data and any(key in data for key in _SECTION_LABELS):
        return ev.BoardConcluded(
            summary=_text(data.get("summary")),
            decision_advice=_text(data.get("decision_advice")),
            total_rounds=total_rounds,
            consensus_points=_points(data.get("consensus_points")),
            dissent_points=_points(data.get("dissent_points")),
        )
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = preamble
    for line in raw.splitlines():
        heading = _heading(line)
        if heading is None:
            current.append(line)
            continue
        current = sections.setdefault(heading[0], [])
        if heading[1]:
            current.append(heading[1])
    if not sections:
        return ev.BoardConcluded(
            summary=raw.strip(),
            decision_advice="",
            total_rounds=total_rounds,
            consensus_points=[],
            dissent_points=[],
        )
    return ev.BoardConcluded(
        summary=_prose(sections.get("summary") or preamble),
        decision_advice=_prose(sections.get("decision_advice", [])),
        total_rounds=total_rounds,
        consensus_points=_bullets(sections.get("consensus_points", [])),
        dissent_points=_bullets(sections.get("dissent_points", [])),
    )


def conclusion_markdown(concluded: ev.BoardConcluded, language: str = "en") -> str:
    """Return the board's final answer: summary, advice, consensus, dissent and the rounds held."""
    zh = language == "zh"
    none = "（无）" if zh else "(none)"

    def bullets(points: list[str]) -> str:
        return "\n".join(f"- {p}" for p in points) or none

    rounds = (
        f"共进行 {concluded.total_rounds} 轮讨论"
        if zh
        else f"{concluded.total_rounds} round(s) of discussion"
    )
    return (
        f"## {'讨论总结' if zh else 'Discussion summary'}\n\n{concluded.summary or none}\n\n"
        f"## {t('decision_advice', language)}\n\n{concluded.decision_advice or none}\n\n"
        f"## {t('consensus', language)}\n\n{bullets(concluded.consensus_points)}\n\n"
        f"## {t('dissent', language)}\n\n{bullets(concluded.dissent_points)}\n\n"
        f"*{rounds}*"
    )
