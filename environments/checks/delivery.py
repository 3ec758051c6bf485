"""Checks of DeliveryConfig: branch names, and no branch claimed by two environments."""

from __future__ import annotations

from typing import Iterator

from environments.config import EnvironmentConfig
from environments.problems import Problem


def delivery_problems(shown: str, data: dict) -> Iterator[Problem]:
    for key in ("deploy_branches", "plan_branches"):
        for index, branch in enumerate(data["delivery"][key]):
            if branch.startswith("refs/"):
                yield Problem(shown, f"delivery.{key}[{index}]", f"{branch!r} is a full ref, not a branch name",
                              f"write {branch.split('/', 2)[-1]!r}: the stack matches refs/heads/ itself")


def shared_deploy_branches(configs: list[EnvironmentConfig]) -> Iterator[Problem]:
    """A push to one branch deploys one environment, and a pull request into one base branch is
    planned against one environment: two files claiming a branch is a mistake."""
    for key, verb, fix in (("deploy_branches", "deploys", "give each deploy branch to one environment"),
                           ("plan_branches", "plans pull requests against",
                            "give each pull-request base branch to one environment")):
        owner: dict[str, EnvironmentConfig] = {}
        for config in configs:
            for branch in getattr(config.delivery, key):
                if branch in owner:
                    yield Problem(config.source, f"delivery.{key}",
                                  f"{branch!r} already {verb} {owner[branch].name} ({owner[branch].source})", fix)
                owner.setdefault(branch, config)
