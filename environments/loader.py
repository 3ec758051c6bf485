"""Read an environment file, check it, and build its frozen config.

Three gates, each reporting every problem it finds, one line per problem naming the
file, the key path, what is wrong and the fix:

1. YAML: parse errors, duplicate keys, anchors, a top level that is not a mapping.
2. The JSON Schema beside this file: unknown keys, types, enums, ranges, units.
3. Semantic checks a schema cannot express: min not above max, CIDR ranges, regions
   that exist, derived names within Google's length limits.

Nothing here imports cdktf or the provider, so a bad file fails in well under a second.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Iterator

import jsonschema
import yaml

from environments.config import ConnectorConfig, DeliveryConfig, EnvironmentConfig, NetworkConfig
from environments.regions import REGIONS

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = ENVIRONMENTS_DIR / "environment.schema.json"
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{1,11}$")
MAX_FILE_BYTES = 1_000_000

# Google's limits on names the stacks derive from the file (DESIGN.md section 4).
NAME_RULES = {
    "service account id": (re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"), 6, 30),
    "VPC Access connector name": (re.compile(r"^[a-z][-a-z0-9]{0,23}[a-z0-9]$"), 2, 25),
    "resource name": (re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"), 1, 63),
    "Cloud Run service name": (re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$"), 1, 49),
    "bucket name": (re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$"), 3, 63),
    # The `gcp-` prefix is reserved by Google.
    "workload identity pool id": (re.compile(r"^(?!gcp-)[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$"), 4, 32),
}


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top level)'}: {self.message}. Fix: {self.fix}"


class ConfigError(Exception):
    """One or more problems in environment files; str() is one line per problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


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
    problems.extend(_shared_deploy_branches(configs))
    if problems:
        raise ConfigError(problems)
    return configs


def load_environment(path: Path | str, schema: dict | None = None) -> EnvironmentConfig:
    path = Path(path)
    shown = _display(path)
    schema = schema if schema is not None else load_schema()
    problems: list[Problem] = []

    name = path.stem
    if not ENV_NAME.match(name):
        problems.append(Problem(shown, "(file name)", f"environment name {name!r} is not usable in resource names",
                                "name the file <env>.yaml with 2-12 lowercase letters or digits, starting with a letter"))

    data = _read_yaml(path, shown)
    schema_problems = list(_schema_problems(data, schema, shown))
    if schema_problems:
        raise ConfigError(problems + schema_problems)
    data = _with_defaults(schema, copy.deepcopy(data))
    problems.extend(_semantic_problems(data, shown, name))
    if problems:
        raise ConfigError(problems)
    return _build(data, name, shown)


# --- gate 1: YAML -----------------------------------------------------------------


class _ReadError(ConfigError):
    pass


def _read_yaml(path: Path, shown: str) -> dict:
    def fail(message: str, fix: str, where: str = "") -> _ReadError:
        return _ReadError([Problem(shown, where, message, fix)])

    try:
        raw = path.read_bytes()
    except OSError as error:
        raise fail(f"cannot be read ({error.strerror})", "check the path and its permissions") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail(f"is {len(raw)} bytes; an environment file is at most {MAX_FILE_BYTES}", "trim the file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise fail(f"is not UTF-8 text (byte {error.start})", "save the file as UTF-8") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise fail(f"is not valid YAML{where}: {what}", "fix the YAML syntax (indentation, quoting, colons)") from None
    if root is None:
        raise fail("is empty", "write a mapping with the keys project, state and network "
                   "(copy environments/staging.yaml as a start)")
    problems = list(_node_problems(root, shown))
    if problems:
        raise _ReadError(problems)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise fail(f"its top level is a {_type_name(data)}, not a mapping",
                   "write `key: value` lines at the top level (project, state, network, ...)")
    return data


def _node_problems(node: yaml.Node, shown: str, path: str = "", seen_nodes: set[int] | None = None) -> Iterator[Problem]:
    """Duplicate keys and aliases: PyYAML silently keeps the last duplicate and expands aliases."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # the composer hands an alias back as the anchored node itself
        yield Problem(shown, path, f"is a YAML alias (line {node.start_mark.line + 1})",
                      "write the values out; anchors and aliases are not supported in environment files")
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            child = _join(path, key)
            if key == "<<":
                yield Problem(shown, child, f"uses a YAML merge key (line {line})",
                              "write the values out; merge keys are not supported in environment files")
                continue
            if key in seen:
                yield Problem(shown, child, f"is defined twice (lines {seen[key]} and {line}); YAML would keep the last",
                              "keep one definition of the key")
            seen[key] = line
            yield from _node_problems(value_node, shown, child, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_problems(item, shown, f"{path}[{index}]", seen_nodes)


# --- gate 2: the JSON Schema -------------------------------------------------------


def _schema_problems(data: dict, schema: dict, shown: str) -> Iterator[Problem]:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        yield from _explain(error, shown)


def _explain(error: jsonschema.ValidationError, shown: str) -> Iterator[Problem]:
    path = _path(error.absolute_path)
    schema, value, kind = error.schema, error.instance, error.validator
    hint = schema.get("description", "") if isinstance(schema, dict) else ""
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(value) - set(allowed), key=str):
            close = difflib.get_close_matches(str(key), allowed, n=1)
            fix = f"did you mean {close[0]!r}? " if close else ""
            if allowed:
                fix += f"allowed keys here: {', '.join(allowed)}"
            else:
                fix += "remove the key"
            yield Problem(shown, _join(path, key), "unknown key", fix)
        # additionalProperties with a schema (maps such as labels) reports its own value errors.
        if isinstance(error.validator_value, dict):
            yield Problem(shown, path, error.message, hint or "see environments/environment.schema.json")
    elif kind == "required":
        for key in error.validator_value:
            if isinstance(value, dict) and key not in value:
                sub = schema.get("properties", {}).get(key, {})
                yield Problem(shown, _join(path, key), "required key is missing",
                              f"add `{key}`: {sub.get('description', 'see the schema')}")
    elif kind == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        expected = " or ".join(_SCHEMA_TYPES.get(t, t) for t in expected)
        yield Problem(shown, path, f"expected {_article(expected)}, got {_type_name(value)} {_short(value)}",
                      hint or f"write {_article(expected)}")
    elif kind == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        yield Problem(shown, path, f"{_short(value)} is not an allowed value", f"use one of: {options}")
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "below the minimum", "maximum": "above the maximum",
                "exclusiveMinimum": "not above", "exclusiveMaximum": "not below"}[kind]
        yield Problem(shown, path, f"{_short(value)} is {word} {error.validator_value}",
                      hint or "use a value within the allowed range")
    elif kind == "pattern":
        yield Problem(shown, path, f"{_short(value)} is not in the expected form", hint or error.message)
    elif kind == "propertyNames":
        yield Problem(shown, path, f"a key here is not allowed: {error.message}", hint or "rename the key")
    else:
        yield Problem(shown, path, error.message, hint or "see environments/environment.schema.json")


def _with_defaults(schema: dict, data: Any) -> Any:
    """Fill schema defaults into a valid document, so the schema is the only place defaults live."""
    if not isinstance(data, dict) or schema.get("type") != "object":
        return data
    for key, sub in schema.get("properties", {}).items():
        if key not in data and "default" in sub:
            data[key] = copy.deepcopy(sub["default"])
        if key in data:
            data[key] = _with_defaults(sub, data[key])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in set(data) - set(schema.get("properties", {})):
            data[key] = _with_defaults(extra, data[key])
    return data


# --- gate 3: semantic checks ------------------------------------------------------


def _semantic_problems(data: dict, shown: str, name: str) -> Iterator[Problem]:
    project = data["project"]
    for key in ("region", "dr_region"):
        region = project[key]
        if region not in REGIONS:
            close = difflib.get_close_matches(region, sorted(REGIONS), n=1)
            fix = f"did you mean {close[0]!r}?" if close else "use a Google Cloud region such as europe-west1"
            yield Problem(shown, f"project.{key}", f"{region!r} is not a Google Cloud region", fix)
    if project["dr_region"] == project["region"]:
        yield Problem(shown, "project.dr_region", "is the same region as project.region",
                      "choose a second region so a regional outage does not take the replica with it")

    network = data["network"]
    ranges = {}
    for key, smallest, exact in (
        ("network.subnet_cidr", 26, None),
        ("network.private_services_cidr", None, (16, 20, 24)),
        ("network.connector.cidr", None, (28,)),
    ):
        value = _get(data, key)
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError as error:
            yield Problem(shown, key, f"{value!r} is not an IPv4 range ({error})",
                          "write an IPv4 CIDR such as 10.10.0.0/24 with no host bits set")
            continue
        if not net.is_private:
            yield Problem(shown, key, f"{value} is not a private (RFC 1918) range", "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        if smallest is not None and net.prefixlen > smallest:
            yield Problem(shown, key, f"{value} is smaller than /{smallest}",
                          f"use a /{smallest} or larger range: Direct VPC egress needs at least /{smallest}")
        if exact is not None and net.prefixlen not in exact:
            allowed = ", ".join(f"/{p}" for p in exact)
            yield Problem(shown, key, f"{value} has prefix /{net.prefixlen}", f"use a {allowed} range")
        ranges[key] = net
    keys = sorted(ranges)
    for i, first in enumerate(keys):
        for second in keys[i + 1:]:
            if ranges[first].overlaps(ranges[second]):
                yield Problem(shown, second, f"{ranges[second]} overlaps {first} ({ranges[first]})",
                              "give each range its own addresses")

    yield from _min_max(shown, data, "network.connector")
    yield from _delivery_problems(shown, data)
    yield from _name_problems(shown, data, name)


def _delivery_problems(shown: str, data: dict) -> Iterator[Problem]:
    for index, branch in enumerate(data["delivery"]["deploy_branches"]):
        if branch.startswith("refs/"):
            yield Problem(shown, f"delivery.deploy_branches[{index}]", f"{branch!r} is a full ref, not a branch name",
                          f"write {branch.split('/', 2)[-1]!r}: the stack matches refs/heads/ itself")


def _shared_deploy_branches(configs: list[EnvironmentConfig]) -> Iterator[Problem]:
    """A push to one branch deploys one environment: two files claiming a branch is a mistake."""
    owner: dict[str, EnvironmentConfig] = {}
    for config in configs:
        for branch in config.delivery.deploy_branches:
            if branch in owner:
                yield Problem(config.source, "delivery.deploy_branches",
                              f"{branch!r} already deploys {owner[branch].name} ({owner[branch].source})",
                              "give each deploy branch to one environment")
            owner.setdefault(branch, config)


def _min_max(shown: str, data: dict, path: str) -> Iterator[Problem]:
    section = _get(data, path)
    low, high = section.get("min_instances"), section.get("max_instances")
    if low is not None and high is not None and low > high:
        yield Problem(shown, f"{path}.min_instances", f"min_instances {low} is above max_instances {high}",
                      f"set min_instances to at most {high}, or raise max_instances")


def derived_names(data: dict, name: str) -> Iterator[tuple[str, str, str]]:
    """(key path that produced it, name, kind) for every name the stacks derive from the file."""
    yield "state.bucket", data["state"]["bucket"], "bucket name"
    yield "(file name)", f"hexproperty-{name}-vpc", "resource name"
    yield "(file name)", f"hp-{name}-conn", "VPC Access connector name"
    yield "(file name)", f"hp-{name}-github", "workload identity pool id"
    yield "(file name)", f"hp-{name}-deployer", "service account id"
    yield "(file name)", f"hp-{name}-planner", "service account id"


def _name_problems(shown: str, data: dict, name: str) -> Iterator[Problem]:
    for key, value, kind in derived_names(data, name):
        pattern, low, high = NAME_RULES[kind]
        if not (low <= len(value) <= high) or not pattern.match(value):
            yield Problem(shown, key, f"derives the {kind} {value!r} ({len(value)} characters), outside Google's "
                          f"limit of {low}-{high} lowercase letters, digits and hyphens",
                          f"shorten it by {max(len(value) - high, 0) or 'the offending characters'}")


# --- building the config ----------------------------------------------------------


def _build(data: dict, name: str, shown: str) -> EnvironmentConfig:
    project, network = data["project"], data["network"]
    return EnvironmentConfig(
        name=name,
        source=shown,
        project_id=project["id"],
        region=project["region"],
        dr_region=project["dr_region"],
        state_bucket=data["state"]["bucket"],
        extra_labels=MappingProxyType(dict(data["labels"])),
        network=NetworkConfig(
            subnet_cidr=network["subnet_cidr"],
            private_services_cidr=network["private_services_cidr"],
            flow_logs_sampling=float(network["flow_logs_sampling"]),
            connector=ConnectorConfig(**network["connector"]),
        ),
        delivery=DeliveryConfig(
            repository=data["delivery"]["repository"],
            deploy_branches=tuple(data["delivery"]["deploy_branches"]),
        ),
    )


# --- small helpers ----------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if isinstance(part, int) else _join(out, part)
    return out


def _get(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


_SCHEMA_TYPES = {"object": "mapping", "array": "list"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__)


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
