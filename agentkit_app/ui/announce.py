"""What the conversation's polite live region reads out once a run has answered (never each token)."""

from __future__ import annotations

import re

from agentkit_app.ui.items import ChatItem

SPOKEN_CHARS = 2000  # the most of an answer the screen-reader announcement reads out
ANSWER_KINDS = ("assistant", "conclusion", "synthesis", "error")


# Markdown a screen reader would spell out: fences, images and links (their text stays), emphasis and
# code marks, heading, quote and bullet marks
_MARKUP = [
    (re.compile(r"```[^\n]*\n?"), ""),
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\*\*|__|`"), ""),
    (re.compile(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)"), ""),
    (re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+)", re.M), ""),
]


def spoken_answer(items: list[ChatItem]) -> str:
    """Return the text a screen reader announces when a run has answered: its last answer, conclusion or error.

    Markdown marks are left out (a reader would spell out every asterisk), and a long answer is cut.
    """
    answer = next((i for i in reversed(items) if i.kind in ANSWER_KINDS and i.content.strip()), None)
    if answer is None:
        return ""
    text = answer.content
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text if len(text) <= SPOKEN_CHARS else text[:SPOKEN_CHARS].rstrip() + "…"
