"""Refuse to plan, deploy or bootstrap an environment whose file still holds a value no real project has.

`make plan` and `make deploy` run it before the cdktf CLI reaches Google: a placeholder billing
account would fail the budgets mid-apply, after the rest of the stack was already changed.
`make bootstrap` runs it with --bootstrap: placeholder repository ids would make the identity
provider trust no workflow. Exit 0 when the environment can be deployed, 2 with one line per
problem (file, key, fix) when not.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from environments.checks.cost import PLACEHOLDER_BILLING_ACCOUNT  # noqa: E402
from environments.config import EnvironmentConfig  # noqa: E402
from environments.loader import Problem  # noqa: E402
from tools.environment_arg import one_environment  # noqa: E402


# RFC 2606 reserves the `.example` top-level domain: the committed files use it for the
# addresses and domains a team fills in. Mail to it goes nowhere; a certificate for it never issues.
PLACEHOLDER_DOMAIN = ".example"


def deploy_problems(config: EnvironmentConfig) -> list[Problem]:
    problems = []
    if config.cost.billing_account == PLACEHOLDER_BILLING_ACCOUNT:
        problems.append(Problem(config.source, "cost.billing_account",
                                f"{PLACEHOLDER_BILLING_ACCOUNT} is the placeholder, not the project's billing account",
                                f"write the real id (gcloud billing projects describe {config.project_id})"))
    places = [(f"{section}.notification_emails[{i}]", email) for section, emails in (
        ("monitoring", config.monitoring.notification_emails), ("cost", config.cost.notification_emails),
        ("compliance", config.compliance.notification_emails)) for i, email in enumerate(emails)]
    if config.edge.enabled:
        places += [(f"edge.domains[{i}]", domain) for i, domain in enumerate(config.edge.domains)]
    for key, value in places:
        if value.endswith(PLACEHOLDER_DOMAIN):
            problems.append(Problem(config.source, key, f"{value} is a placeholder (.example is reserved: "
                                    "mail to it goes nowhere, and no certificate issues for it)",
                                    "write the team's real address or domain"))
    return problems


def bootstrap_problems(config: EnvironmentConfig) -> list[Problem]:
    """The identity provider would trust no token (or the wrong repository) with a placeholder id."""
    problems = []
    for key, jq in (("repository_id", ".id"), ("repository_owner_id", ".owner.id")):
        if getattr(config.delivery, key) == 0:
            problems.append(Problem(config.source, f"delivery.{key}", "0 is the placeholder, not the repository's id",
                                    f"write the real one (gh api repos/{config.delivery.repository} --jq {jq})"))
    return problems


def main(argv: list[str]) -> int:
    bootstrap = argv[:1] == ["--bootstrap"]
    config = one_environment(argv[1:] if bootstrap else argv, "tools/deploy_preflight.py [--bootstrap] <environment>")
    problems = bootstrap_problems(config) if bootstrap else deploy_problems(config)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
