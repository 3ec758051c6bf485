"""Checks of LoadProfileConfig: every runtime it names is a runtime of the file."""

from __future__ import annotations

from typing import Iterator

from environments.checks.shared import unknown_runtimes
from environments.problems import Problem


def load_profile_problems(shown: str, data: dict) -> Iterator[Problem]:
    for runtime in data["load_profile"]["runtimes"]:
        yield from unknown_runtimes(shown, data, f"load_profile.runtimes.{runtime}", [runtime], indexed=False)
