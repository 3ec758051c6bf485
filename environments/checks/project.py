"""Checks of the project section: regions Google Cloud has, and a DR region apart from the main one."""

from __future__ import annotations

import difflib
from typing import Iterator

from environments.problems import Problem
from environments.regions import REGIONS


def project_problems(shown: str, project: dict) -> Iterator[Problem]:
    for key in ("region", "dr_region"):
        region = project[key]
        if region not in REGIONS:
            close = difflib.get_close_matches(region, sorted(REGIONS), n=1)
            fix = f"did you mean {close[0]!r}?" if close else "use a Google Cloud region such as europe-west1"
            yield Problem(shown, f"project.{key}", f"{region!r} is not a Google Cloud region", fix)
    if project["dr_region"] == project["region"]:
        yield Problem(shown, "project.dr_region", "is the same region as project.region",
                      "choose a second region so a regional outage does not take the replica with it")
