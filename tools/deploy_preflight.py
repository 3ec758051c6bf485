"""Refuse to plan or deploy an environment whose file still holds a value no real project has.

`make plan` and `make deploy` run it before the cdktf CLI reaches Google: a placeholder billing
account would fail the budgets mid-apply, after the rest of the stack was already changed.
Exit 0 when the environment can be deployed, 2 with one line per problem (file, key, fix) when not.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from environments.config import EnvironmentConfig  # noqa: E402
from environments.loader import PLACEHOLDER_BILLING_ACCOUNT, ConfigError, Problem, load_all  # noqa: E402


def deploy_problems(config: EnvironmentConfig) -> list[Problem]:
    if config.cost.billing_account == PLACEHOLDER_BILLING_ACCOUNT:
        return [Problem(config.source, "cost.billing_account",
                        f"{PLACEHOLDER_BILLING_ACCOUNT} is the placeholder, not the project's billing account",
                        f"write the real id (gcloud billing projects describe {config.project_id})")]
    return []


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: tools/deploy_preflight.py <environment>", file=sys.stderr)
        return 2
    try:
        (config,) = load_all(names=argv)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    problems = deploy_problems(config)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
