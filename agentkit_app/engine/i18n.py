"""What the engine and the service say to users, in English and Simplified Chinese (the web UI keeps its own text apart).

The text itself is in ``text.yaml`` beside this module, each key once with its English and Chinese;
:func:`t` looks a key up and fills in its values.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

LANGUAGES = ("en", "zh")

TEXT_FILE = Path(__file__).with_name("text.yaml")


def load_text(path: Path) -> dict[str, dict[str, str]]:
    """Return a text table read from YAML: each key with its text in every one of :data:`LANGUAGES`.

    Raises:
        ValueError: an entry lacks a language, or its text is not a string.
    """
    table = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key, entry in table.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(lang), str) for lang in LANGUAGES):
            raise ValueError(f"{path.name}: '{key}' needs a text in each of {', '.join(LANGUAGES)}")
    return table


TEXT: dict[str, dict[str, str]] = load_text(TEXT_FILE)


def has_cjk(text: str) -> bool:
    """Return whether the text contains Chinese characters."""
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def t(key: str, language: str = "en", **values: object) -> str:
    """Return the text for a key in a language (English when the language is unknown)."""
    entry = TEXT[key]
    text = entry.get(language) or entry["en"]
    return text.format(**values) if values else text


class LocalizedError(ValueError):
    """An error whose message is an entry of the table: English as ``str()``, any language by :meth:`text`."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(t(key, "en", **values))
        self.key = key
        self.values = values

    def text(self, language: str) -> str:
        """Return the message in ``language``."""
        return t(self.key, language, **self.values)
