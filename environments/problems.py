"""How a problem in an environment file is said: one line naming the file, the key path, what is
wrong and the fix; and the small helpers that write key paths and values into those lines."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top level)'}: {self.message}. Fix: {self.fix}"


class ConfigError(Exception):
    """One or more problems in environment files; str() is one line per problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def shown_name(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def join_key(path: str, key: Any) -> str:
    # Odd keys (spaces, newlines, dots, non-strings) are quoted so each problem stays one readable line.
    text = key if isinstance(key, str) and _PLAIN_KEY.match(key) else repr(key)
    return f"{path}.{text}" if path else text


def key_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if isinstance(part, int) else join_key(out, part)
    return out


def value_at(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__)


def with_article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
