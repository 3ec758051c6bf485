"""Print `<instance> --project=<project id>` of an environment's Cloud SQL primary, for gcloud.

`make wake ENV=staging` uses it, so the instance name comes from the same file and naming
rule as the stack, never from a second spelling in the Makefile.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.environment_arg import one_environment  # noqa: E402


def main(argv: list[str]) -> int:
    config = one_environment(argv, "tools/sql_instance.py <environment>")
    print(f"{config.sql_writer_name} --project={config.project_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
