"""Generated blocks of the documentation: each sits between a begin and an end marker in its page
(README.md or a page under docs/), is rewritten by its make target and checked by a test, so the
page cannot drift from what generates it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def current_block(text: str, begin: str, end: str) -> str:
    return text[text.index(begin):text.index(end) + len(end)]


def write_or_check(page: Path, block: str, begin: str, end: str, *, check: bool, what: str, target: str) -> int:
    """Replace the page's block with `block`, or with `check` only report whether it is current."""
    text = page.read_text(encoding="utf-8")
    current = current_block(text, begin, end)
    if check:
        if current != block:
            print(f"{page.relative_to(ROOT)} {what} is stale: run `make {target}`", file=sys.stderr)
            return 1
        return 0
    page.write_text(text.replace(current, block), encoding="utf-8")
    return 0
