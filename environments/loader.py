"""Read an environment file, check it, and build its frozen config.

Three gates, each reporting every problem it finds, one line per problem naming the
file, the key path, what is wrong and the fix (environments/problems.py):

1. YAML (reading.py): parse errors, duplicate keys, anchors, a top level that is not a mapping.
2. The JSON Schema beside this file (schema.py): unknown keys, types, enums, ranges, units.
3. Semantic checks a schema cannot express (checks/, one module per section): min not above
   max, CIDR ranges, regions that exist, derived names within Google's length limits, Cloud
   SQL tiers against their edition, and production's rules (HA, backups, PITR, replica,
   protection, retention floors).

A file that passes all three becomes its typed config (building.py). Nothing here imports
cdktf or the provider, so a bad file fails in well under a second.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Iterable

from environments.building import build_config
from environments.checks import semantic_problems
from environments.checks.delivery import shared_deploy_branches
from environments.config import EnvironmentConfig
from environments.problems import ConfigError, Problem, shown_name
from environments.reading import read_yaml
from environments.schema import load_schema, schema_problems, with_defaults

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{1,11}$")


def environment_files(directory: Path = ENVIRONMENTS_DIR) -> list[Path]:
    return sorted(Path(directory).glob("*.yaml"))


def load_all(directory: Path = ENVIRONMENTS_DIR, names: Iterable[str] | None = None) -> list[EnvironmentConfig]:
    """Load every environment file in `directory` (or only `names`); raise one ConfigError for all."""
    files = environment_files(directory)
    if names:
        wanted = list(names)
        known = {f.stem: f for f in files}
        missing = [n for n in wanted if n not in known]
        if missing:
            raise ConfigError(
                Problem(str(Path(directory) / f"{n}.yaml"), "", "no such environment file",
                        f"choose one of: {', '.join(sorted(known)) or '(none)'}")
                for n in missing
            )
        files = [known[n] for n in wanted]
    if not files:
        raise ConfigError([Problem(str(directory), "", "no environment files (*.yaml) found",
                                   "add environments/<env>.yaml")])
    configs, problems = [], []
    schema = load_schema()
    for path in files:
        try:
            configs.append(load_environment(path, schema))
        except ConfigError as error:
            problems.extend(error.problems)
    problems.extend(shared_deploy_branches(configs))
    if problems:
        raise ConfigError(problems)
    return configs


def load_environment(path: Path | str, schema: dict | None = None) -> EnvironmentConfig:
    path = Path(path)
    shown = shown_name(path)
    schema = schema if schema is not None else load_schema()
    problems: list[Problem] = []

    name = path.stem
    if not ENV_NAME.match(name):
        problems.append(Problem(shown, "(file name)", f"environment name {name!r} is not usable in resource names",
                                "name the file <env>.yaml with 2-12 lowercase letters or digits, starting with a letter"))

    data = read_yaml(path, shown)
    invalid = list(schema_problems(data, schema, shown))
    if invalid:
        raise ConfigError(problems + invalid)
    data = with_defaults(schema, copy.deepcopy(data))
    problems.extend(semantic_problems(data, shown, name))
    if problems:
        raise ConfigError(problems)
    return build_config(data, name, shown)
