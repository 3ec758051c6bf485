"""The commit last deployed to a GitHub environment: what a deploy's `make diff` compares with.

Reads the environment's deployments (each apply job runs in the environment, and GitHub records
a deployment for it) newest first, and prints the commit of the first one whose latest status is
`success`. Prints nothing when the environment was never deployed. Needs `gh` with a token that
may read deployments (GH_TOKEN; `deployments: read` in a workflow).

    tools/last_deployed.py <owner>/<repo> <environment>
"""

from __future__ import annotations

import json
import subprocess
import sys

PAGES = 5  # 100 deployments a page: a run of 500 failed deploys in a row means something else is wrong


def _gh(path: str) -> list[dict]:
    run = subprocess.run(["gh", "api", path], capture_output=True, text=True, check=False)
    if run.returncode:
        raise RuntimeError(f"gh api {path}: {run.stderr.strip() or run.stdout.strip()}")
    return json.loads(run.stdout)


def last_deployed(repository: str, environment: str, fetch=_gh) -> str | None:
    for page in range(1, PAGES + 1):
        deployments = fetch(f"repos/{repository}/deployments?environment={environment}&per_page=100&page={page}")
        for deployment in deployments:
            statuses = fetch(f"repos/{repository}/deployments/{deployment['id']}/statuses?per_page=1")
            if statuses and statuses[0]["state"] == "success":
                return deployment["sha"]
        if len(deployments) < 100:
            return None
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: tools/last_deployed.py <owner>/<repo> <environment>", file=sys.stderr)
        return 2
    try:
        sha = last_deployed(*argv)
    except (RuntimeError, OSError, ValueError) as error:
        print(f"last_deployed: {error}", file=sys.stderr)
        return 2
    print(sha or "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
