"""Reading what people and models write: name lists, JSON in prose, the answer-language rule."""

from __future__ import annotations

import json
import re

SEPARATORS = ",，、"


def take_names(spec: str, known: list[str]) -> tuple[list[str], str]:
    """Split ``A,B rest`` into the expert names (longest known name first) and the rest."""
    names: list[str] = []
    by_length = sorted(known, key=len, reverse=True)
    rest = spec.lstrip()
    while rest:
        lower = rest.casefold()
        name = next(
            (k for k in by_length if lower.startswith(k.casefold()) and (len(rest) == len(k) or rest[len(k)] in SEPARATORS + " \t\n")),
            None,
        )  # fmt: skip
        if name is None:  # an unknown name: up to the next separator or space
            token = re.match(r"[^\s" + SEPARATORS + "]+", rest)
            name = token.group(0) if token else rest[:1]
        names.append(rest[: len(name)])
        rest = rest[len(name) :]
        if rest[:1] and rest[0] in SEPARATORS:
            rest = rest[1:].lstrip()
            continue
        break
    return names, rest.strip()


def lang_rule(language: str) -> str:
    """Return the instruction that makes a model answer in the user's language."""
    return "Answer in Simplified Chinese." if language == "zh" else "Answer in English."


def json_object(text: str) -> dict[str, object] | None:
    """Return the first JSON object in a reply (models like to wrap it in prose or fences)."""
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None
