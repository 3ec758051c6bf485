"""The command line of the tools that act on one environment (`make wake`, the plan and deploy preflight)."""

from __future__ import annotations

import sys

from environments.config import EnvironmentConfig
from environments.loader import ConfigError, load_all


def one_environment(argv: list[str], usage: str) -> EnvironmentConfig:
    """The environment the only argument names; otherwise the usage, or the file's problems, on
    stderr and exit 2 (no traceback)."""
    if len(argv) != 1:
        print(f"usage: {usage}", file=sys.stderr)
        raise SystemExit(2)
    try:
        (config,) = load_all(names=argv)
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
    return config
