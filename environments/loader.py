"""Read an environment file, check it, and build its frozen config.

Three gates, each reporting every problem it finds, one line per problem naming the
file, the key path, what is wrong and the fix:

1. YAML: parse errors, duplicate keys, anchors, a top level that is not a mapping.
2. The JSON Schema beside this file: unknown keys, types, enums, ranges, units.
3. Semantic checks a schema cannot express: min not above max, CIDR ranges, regions
   that exist, derived names within Google's length limits, Cloud SQL tiers against
   their edition, and production's rules (HA, backups, PITR, replica, protection).

Nothing here imports cdktf or the provider, so a bad file fails in well under a second.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import os
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Iterator

import jsonschema
import yaml

from environments.config import (
    APP,
    SHORT_APP,
    TIERS,
    ApiConfig,
    AutoPauseConfig,
    BackupConfig,
    ComplianceConfig,
    ConnectorConfig,
    CostConfig,
    DataConfig,
    DataNames,
    DeliveryConfig,
    DisasterRecoveryConfig,
    EnvironmentConfig,
    ErrorAlert,
    EventsConfig,
    ImagesConfig,
    KafkaOnCloudRunConfig,
    LatencyAlert,
    LoadProfileConfig,
    LockedCopyConfig,
    MaintenanceWindow,
    ManagedKafkaConfig,
    MonitoringConfig,
    NetworkConfig,
    PostgresAlerts,
    PostgresConfig,
    RedisAlerts,
    RedisConfig,
    ReplicaConfig,
    RunServiceConfig,
    RuntimeLoad,
    TopicConfig,
    TrafficSplit,
    UptimeConfig,
)
from environments.regions import REGIONS

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = ENVIRONMENTS_DIR / "environment.schema.json"
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{1,11}$")
MAX_FILE_BYTES = 1_000_000
# libyaml's parser when PyYAML was built with it (the wheels are): ten times the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RUNTIMES = ("frontend", "api")  # besides the microservices named in the file
EVENTS_COMPONENT = "kafka"  # the events tier's names: its service, service account, bucket, cluster

# Cloud Functions runtimes Google no longer deploys (docs: functions/docs/runtime-support).
DECOMMISSIONED_RUNTIMES = {
    "nodejs6": "2020-08-01", "nodejs8": "2021-02-03", "nodejs10": "2024-01-30", "nodejs12": "2024-01-30",
    "nodejs14": "2025-01-30", "nodejs16": "2025-01-30", "nodejs18": "2025-10-30", "nodejs20": "2026-10-30",
}
SUPPORTED_RUNTIMES = ("nodejs22", "nodejs24")
# The environment held to production's rules: HA, backups, PITR, replica, deletion protection.
PRODUCTION = "production"

# Google's limits on names the stacks derive from the file (DESIGN.md section 4).
NAME_RULES = {
    "service account id": (re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"), 6, 30),
    "VPC Access connector name": (re.compile(r"^[a-z][-a-z0-9]{0,23}[a-z0-9]$"), 2, 25),
    "resource name": (re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"), 1, 63),
    "Cloud Run service name": (re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$"), 1, 49),
    "bucket name": (re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$"), 3, 63),
    "Memorystore instance id": (re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$"), 1, 40),
    "custom role id": (re.compile(r"^[a-zA-Z0-9_.]{3,64}$"), 3, 64),
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
    # One parse: the node tree is checked for duplicate keys and aliases, then turned into data.
    loader = _YAML_LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise fail("is empty", "write a mapping with the keys project, state and network "
                       "(copy environments/staging.yaml as a start)")
        problems = list(_node_problems(root, shown))
        if problems:
            raise _ReadError(problems)
        data = loader.construct_document(root)  # raises on tags such as !!python/name or !custom
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise fail(f"is not valid YAML{where}: {what}",
                   "fix the YAML syntax (indentation, quoting, colons); tags such as !name are not supported") from None
    finally:
        loader.dispose()
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
    seen = set()
    for error in errors:
        for problem in _explain(error, shown, schema):
            if problem not in seen:  # a key reached through allOf can be reported twice
                seen.add(problem)
                yield problem


def _describe(node: dict, key: str, root: dict) -> str:
    """The description of `key` under `node`, following allOf and $ref."""
    candidates = [node] + [part for part in node.get("allOf", [])]
    for candidate in candidates:
        if "$ref" in candidate:
            candidate = _resolve(candidate["$ref"], root)
        description = candidate.get("properties", {}).get(key, {})
        if "$ref" in description and "description" not in description:
            description = _resolve(description["$ref"], root)
        if description.get("description"):
            return description["description"]
    return "see environments/environment.schema.json"


def _resolve(ref: str, root: dict) -> dict:
    node = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _explain(error: jsonschema.ValidationError, shown: str, root: dict) -> Iterator[Problem]:
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
                yield Problem(shown, _join(path, key), "required key is missing",
                              f"add `{key}`: {_describe(schema, key, root)}")
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

    yield from _min_max(shown, data["network"]["connector"], "network.connector")
    yield from _application_problems(shown, data, name)
    yield from _data_problems(shown, data["data"], name)
    yield from _delivery_problems(shown, data)
    yield from _events_problems(shown, data)
    yield from _load_profile_problems(shown, data)
    yield from _monitoring_problems(shown, data["monitoring"], name)
    yield from _cost_problems(shown, data["cost"])
    yield from _compliance_problems(shown, data["compliance"], name)
    yield from _time_zone_problems(shown, "disaster_recovery.time_zone", data["disaster_recovery"]["time_zone"])
    if name == PRODUCTION:
        yield from _retention_floor_problems(shown, data)
    yield from _name_problems(shown, data, name)


# Production's retention floors: what the environment must keep, whatever the file says.
# Each is named with its reason in docs/runbooks/cost-and-compliance.md (Retention floors).
RETENTION_FLOOR_DOC = "docs/runbooks/cost-and-compliance.md#retention-floors"
BACKUPS_FLOOR = 14  # daily automated backups, and days of the locked copy
AUDIT_LOG_FLOOR_DAYS = 365
APPLICATION_LOG_FLOOR_DAYS = 30
TOPIC_RETENTION_FLOOR_HOURS = 7 * 24


def _retention_floor_problems(shown: str, data: dict) -> Iterator[Problem]:
    pg = data["data"]["postgres"]
    backups, edition = pg["backups"], pg["edition"]
    floors = [
        ("data.postgres.backups.retained", backups["retained"], BACKUPS_FLOOR, "daily backups",
         f"set retained: {BACKUPS_FLOOR} or more"),
        ("compliance.audit_log_retention_days", data["compliance"]["audit_log_retention_days"], AUDIT_LOG_FLOOR_DAYS,
         "days", f"set audit_log_retention_days: {AUDIT_LOG_FLOOR_DAYS} or more"),
        ("monitoring.log_retention_days", data["monitoring"]["log_retention_days"], APPLICATION_LOG_FLOOR_DAYS, "days",
         f"set log_retention_days: {APPLICATION_LOG_FLOOR_DAYS} or more"),
        *((f"events.topics.{topic}.retention_hours", settings["retention_hours"], TOPIC_RETENTION_FLOOR_HOURS,
           "hours (7 days)", f"set retention_hours: {TOPIC_RETENTION_FLOOR_HOURS} or more")
          for topic, settings in sorted(data["events"]["topics"].items())),
    ]
    if backups["point_in_time_recovery"] and backups["log_retention_days"] < PITR_MAX_DAYS[edition]:
        floors.append(("data.postgres.backups.log_retention_days", backups["log_retention_days"], PITR_MAX_DAYS[edition],
                       f"days ({edition}'s maximum)", f"set log_retention_days: {PITR_MAX_DAYS[edition]}"))
    copy_ = backups.get("locked_copy")
    if copy_ is None:
        yield Problem(shown, "data.postgres.backups.locked_copy", "production without a copy of its backups that the "
                      "project's own admins cannot shorten or delete",
                      f"add locked_copy: {{retention_days: {BACKUPS_FLOOR}}} or more ({RETENTION_FLOOR_DOC})")
    else:
        floors.append(("data.postgres.backups.locked_copy.retention_days", copy_["retention_days"], BACKUPS_FLOOR, "days",
                       f"set retention_days: {BACKUPS_FLOOR} or more (a locked retention can only grow later)"))
    for path, value, floor, unit, fix in floors:
        if value < floor:
            yield Problem(shown, path, f"{value} is below production's floor of {floor} {unit}",
                          f"{fix} ({RETENTION_FLOOR_DOC})")


def _monitoring_problems(shown: str, monitoring: dict, name: str) -> Iterator[Problem]:
    """Alert durations the Monitoring API accepts: whole minutes only. Production pages someone:
    it keeps a condition for each runtime."""
    if name == PRODUCTION and monitoring["alerting"] != "per-runtime":
        yield Problem(shown, "monitoring.alerting", f"production with {monitoring['alerting']} alerting: no runtime at its cap and no "
                      "database or Redis limit would page anyone", "set alerting: per-runtime")
    for section in ("latency", "errors", "scaling", "postgres", "redis", "kafka", "uptime"):
        seconds = monitoring[section]["duration_seconds"]
        if seconds % 60:
            yield Problem(shown, f"monitoring.{section}.duration_seconds", f"{seconds} s is not a whole number of minutes",
                          f"use a multiple of 60, for example {max(60, seconds // 60 * 60)}")


def _run_services(data: dict) -> Iterator[tuple[str, str, dict]]:
    """(runtime name, key path, merged settings) of every Cloud Run service in the file."""
    yield "frontend", "frontend", data["frontend"]
    defaults = data["microservices"]["defaults"]
    for service, overrides in data["microservices"]["services"].items():
        yield service, f"microservices.services.{service}", {**defaults, **overrides}


def _application_problems(shown: str, data: dict, name: str) -> Iterator[Problem]:
    services = dict(data["microservices"]["services"])
    for reserved in RUNTIMES:
        if reserved in services:
            yield Problem(shown, f"microservices.services.{reserved}", f"{reserved!r} is the name of another tier",
                          "give the microservice another name")

    merged = {name_: settings for name_, _, settings in _run_services(data) if name_ != "frontend"}
    cycle = _call_cycle(merged)
    if cycle:
        yield Problem(shown, f"microservices.services.{cycle[0]}.calls", f"calls go round in a circle: {' -> '.join(cycle)}",
                      "break the cycle (for example with an event on Kafka instead of a call)")

    for store in ("postgres", "redis"):
        yield from _unknown_runtimes(shown, data, f"data.{store}.clients", data["data"][store]["clients"])

    api = data["api"]
    runtime = api["runtime"]
    if runtime in DECOMMISSIONED_RUNTIMES:
        yield Problem(shown, "api.runtime", f"{runtime} was decommissioned on Cloud Functions on "
                      f"{DECOMMISSIONED_RUNTIMES[runtime]}; new deploys and updates are refused",
                      f"use {' or '.join(SUPPORTED_RUNTIMES)} (nodejs24 is supported into 2028)")
    elif runtime not in SUPPORTED_RUNTIMES:
        yield Problem(shown, "api.runtime", f"{runtime} is not a Cloud Functions runtime this project knows",
                      f"use one of: {', '.join(SUPPORTED_RUNTIMES)}")
    yield from _min_max(shown, api, "api")
    megabytes = _function_memory_mb(api["memory"])
    if not 128 <= megabytes <= 32 * 1024:
        yield Problem(shown, "api.memory", f"{api['memory']} is outside 128M-32Gi", "use for example 256M or 512M")
    yield from _calls(shown, "api.calls", api["calls"], "api", set(services))

    for runtime_name, path, service in _run_services(data):
        yield from _min_max(shown, service, path)
        yield from _memory_for_cpu(shown, path, service["memory"], service["cpu"])
        # The frontend calls the API and services; services call services; nothing calls the frontend.
        callable_ = set(services) | ({"api"} if runtime_name == "frontend" else set())
        yield from _calls(shown, f"{path}.calls", service["calls"], runtime_name, callable_)
        if "traffic" in service:
            yield from _traffic(shown, f"{path}.traffic", service["traffic"], data_name=f"{APP}-{name}-{runtime_name}")
        image = service["image"]
        if name == PRODUCTION and ("@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"))):
            yield Problem(shown, f"{path}.image", f"{image!r} is untagged or :latest, which production never deploys",
                          "pin a version tag or an @sha256 digest")


def _events_problems(shown: str, data: dict) -> Iterator[Problem]:
    events = data["events"]
    services = set(data["microservices"]["services"])
    if EVENTS_COMPONENT in services:
        yield Problem(shown, f"microservices.services.{EVENTS_COMPONENT}", f"{EVENTS_COMPONENT!r} names the events tier's "
                      "service, service account and cluster", "give the microservice another name")
    for role in ("producers", "consumers"):
        yield from _unknown_runtimes(shown, data, f"events.{role}", events[role])

    kafka = events["cloud_run"]
    for key in ("proxy_image", "broker_image"):
        if kafka[key].endswith(":latest"):
            yield Problem(shown, f"events.cloud_run.{key}", f"{kafka[key]!r} is :latest, which moves under a running broker",
                          "pin a version tag or an @sha256 digest")
    for container in ("proxy", "broker"):
        yield from _memory_for_cpu(shown, "events.cloud_run", kafka[f"{container}_memory"], kafka[f"{container}_cpu"],
                                   key=f"{container}_memory", cpu_key=f"{container}_cpu")

    managed = events["managed"]
    # Managed Kafka accepts 1 to 8 GiB per vCPU (managed-service-for-apache-kafka/docs/plan-cluster-size).
    if not managed["vcpu"] <= managed["memory_gib"] <= 8 * managed["vcpu"]:
        yield Problem(shown, "events.managed.memory_gib", f"{managed['memory_gib']} GiB for {managed['vcpu']} vCPU is outside "
                      "Managed Kafka's 1-8 GiB per vCPU", f"use {managed['vcpu']}-{8 * managed['vcpu']} GiB")
def _runtime_names(data: dict) -> list[str]:
    return [*RUNTIMES, *data["microservices"]["services"]]


def _load_profile_problems(shown: str, data: dict) -> Iterator[Problem]:
    for runtime in data["load_profile"]["runtimes"]:
        yield from _unknown_runtimes(shown, data, f"load_profile.runtimes.{runtime}", [runtime], indexed=False)


def _unknown_runtimes(shown: str, data: dict, path: str, names: Iterable[str], indexed: bool = True) -> Iterator[Problem]:
    """Names that should be runtimes of the file (frontend, api, a microservice) but are not."""
    known = _runtime_names(data)
    for index, name in enumerate(names):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            fix = (f"did you mean {close[0]!r}? " if close else "") + f"runtimes here: {', '.join(known)}"
            yield Problem(shown, f"{path}[{index}]" if indexed else path, f"{name!r} is not a runtime of this file", fix)


def _calls(shown: str, path: str, calls: list, caller: str, callable_: set) -> Iterator[Problem]:
    for index, callee in enumerate(calls):
        if callee == caller:
            yield Problem(shown, f"{path}[{index}]", f"{caller} calls itself", "remove it: a runtime needs no grant on itself")
        elif callee not in callable_:
            options = sorted(callable_ - {caller})
            close = difflib.get_close_matches(callee, options, n=1)
            fix = (f"did you mean {close[0]!r}? " if close else "") + f"{caller} may call: {', '.join(options)}"
            yield Problem(shown, f"{path}[{index}]", f"{callee!r} is not a runtime {caller} can call", fix)


def _call_cycle(services: dict) -> list[str] | None:
    """A cycle among microservice calls, if any: URLs are passed as Terraform references,
    which cannot go round in a circle."""
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for callee in services.get(node, {}).get("calls", []):
            if state.get(callee) == "open":
                return trail[trail.index(callee):] + [callee] if callee in trail else [node, callee]
            if callee in services and callee not in state:
                found = visit(callee, trail + [callee])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(services):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def _memory_for_cpu(shown: str, path: str, memory: str, cpu: int, key: str = "memory",
                    cpu_key: str = "cpu") -> Iterator[Problem]:
    mebibytes = int(memory[:-2]) * (1024 if memory.endswith("Gi") else 1)
    if not 128 <= mebibytes <= 32 * 1024:
        yield Problem(shown, f"{path}.{key}", f"{memory} is outside Cloud Run's 128Mi-32Gi", "use for example 512Mi or 1Gi")
        return
    # Cloud Run's minimum CPU per memory size (cloud.google.com/run/docs/configuring/services/memory-limits).
    for above_gib, needs in ((24, 8), (16, 6), (8, 4), (4, 2)):
        if mebibytes > above_gib * 1024 and cpu < needs:
            yield Problem(shown, f"{path}.{key}", f"{memory} needs at least {needs} CPU on Cloud Run; {cpu_key} is {cpu}",
                          f"set {cpu_key} to {needs} or more, or lower {key} to {above_gib}Gi")
            return


def _traffic(shown: str, path: str, splits: list, data_name: str) -> Iterator[Problem]:
    total = sum(split["percent"] for split in splits)
    if total != 100:
        yield Problem(shown, path, f"percentages sum to {total}", "make the percentages sum to exactly 100")
    tags = [split["tag"] for split in splits if "tag" in split]
    for tag in sorted({t for t in tags if tags.count(t) > 1}):
        yield Problem(shown, path, f"tag {tag!r} is used twice", "give every split its own tag")
    targets = [split.get("revision", "(latest)") for split in splits]
    for target in sorted({t for t in targets if targets.count(t) > 1}):
        yield Problem(shown, path, f"{target} appears twice", "list each revision once")
    for index, split in enumerate(splits):
        revision = split.get("revision")
        if revision is not None and not revision.startswith(f"{data_name}-"):
            yield Problem(shown, f"{path}[{index}].revision", f"{revision!r} is not a revision of {data_name}",
                          f"revision names start with {data_name}- (see `gcloud run revisions list`)")


def _function_memory_mb(memory: str) -> float:
    number, unit = re.match(r"^(\d+)(M|Mi|G|Gi)$", memory).groups()
    return int(number) * {"M": 1 / 1.048576, "Mi": 1, "G": 1000 / 1.048576, "Gi": 1024}[unit]


def _delivery_problems(shown: str, data: dict) -> Iterator[Problem]:
    for key in ("deploy_branches", "plan_branches"):
        for index, branch in enumerate(data["delivery"][key]):
            if branch.startswith("refs/"):
                yield Problem(shown, f"delivery.{key}[{index}]", f"{branch!r} is a full ref, not a branch name",
                              f"write {branch.split('/', 2)[-1]!r}: the stack matches refs/heads/ itself")


def _shared_deploy_branches(configs: list[EnvironmentConfig]) -> Iterator[Problem]:
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


def _min_max(shown: str, section: dict, path: str) -> Iterator[Problem]:
    low, high = section.get("min_instances"), section.get("max_instances")
    if low is not None and high is not None and low > high:
        yield Problem(shown, f"{path}.min_instances", f"min_instances {low} is above max_instances {high}",
                      f"set min_instances to at most {high}, or raise max_instances")


# Cloud Billing account ids: three groups of six uppercase hexadecimal characters.
BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
# The committed files' stand-in id: synthesis accepts it, plan and deploy refuse it (tools/deploy_preflight.py).
PLACEHOLDER_BILLING_ACCOUNT = "000000-000000-000000"


def _cost_problems(shown: str, cost: dict) -> Iterator[Problem]:
    if not BILLING_ACCOUNT.match(cost["billing_account"]):
        yield Problem(shown, "cost.billing_account", f"{_short(cost['billing_account'])} is not a billing account id",
                      "write XXXXXX-XXXXXX-XXXXXX with digits and A-F (gcloud billing projects describe <project>)")
    for tier in sorted(cost["tier_amounts"]):
        if tier not in TIERS:
            close = difflib.get_close_matches(tier, TIERS, n=1)
            yield Problem(shown, f"cost.tier_amounts.{tier}", f"{tier!r} is not a tier label of the stack",
                          (f"did you mean {close[0]!r}? " if close else "") + f"tiers: {', '.join(TIERS)}")
    total = sum(cost["tier_amounts"].values())
    if total > cost["monthly_amount"]:
        yield Problem(shown, "cost.tier_amounts", f"the tiers' budgets add up to {total}, above monthly_amount "
                      f"{cost['monthly_amount']}", "lower the tier budgets or raise monthly_amount: tiers share the project")


def _compliance_problems(shown: str, compliance: dict, name: str) -> Iterator[Problem]:
    services = compliance["data_access_services"]
    if "allServices" in services and len(services) > 1:
        yield Problem(shown, "compliance.data_access_services", "names allServices and single services",
                      "write [allServices] alone: it already covers every service")
    if name == PRODUCTION and not compliance["lock_audit_bucket"]:
        yield Problem(shown, "compliance.lock_audit_bucket", "production's audit logs could be deleted or cut short",
                      "set lock_audit_bucket: true (irreversible: retention can then only grow)")


# Cloud SQL editions and what they accept (gcp-facts.md section 3).
SHARED_CORE_TIERS = {"db-f1-micro", "db-g1-small"}
PERF_OPTIMIZED_CPUS = {2, 4, 8, 16, 32, 48, 64, 80, 96, 128}
PITR_MAX_DAYS = {"ENTERPRISE": 7, "ENTERPRISE_PLUS": 35}
RESERVED_DATABASES = {"postgres", "cloudsqladmin", "template0", "template1"}


def _data_problems(shown: str, data: dict, name: str) -> Iterator[Problem]:
    pg, redis = data["postgres"], data["redis"]
    edition, backups = pg["edition"], pg["backups"]
    yield from _tier_problems(shown, "data.postgres.tier", pg["tier"], edition)
    if "replica" in pg:
        yield from _tier_problems(shown, "data.postgres.replica.tier", pg["replica"]["tier"], edition)
    if backups["log_retention_days"] > PITR_MAX_DAYS[edition]:
        yield Problem(shown, "data.postgres.backups.log_retention_days",
                      f"{backups['log_retention_days']} days is above {edition}'s limit of {PITR_MAX_DAYS[edition]}",
                      f"keep 1-{PITR_MAX_DAYS[edition]} days of transaction logs")
    if backups["point_in_time_recovery"] and not backups["enabled"]:
        yield Problem(shown, "data.postgres.backups.point_in_time_recovery", "needs automated backups",
                      "set backups.enabled: true, or point_in_time_recovery: false")
    limit = pg["disk_autoresize_limit_gb"]
    if limit and limit < pg["disk_size_gb"]:
        yield Problem(shown, "data.postgres.disk_autoresize_limit_gb",
                      f"{limit} GB is below disk_size_gb {pg['disk_size_gb']}", "raise the limit, or set 0 for none")
    for index, database in enumerate(pg["databases"]):
        if database in RESERVED_DATABASES:
            yield Problem(shown, f"data.postgres.databases[{index}]", f"{database!r} is a name Cloud SQL reserves",
                          "choose another database name")
    if "auto_pause" in pg:
        yield from _auto_pause_problems(shown, pg)
    if name == PRODUCTION:
        yield from _production_problems(shown, pg, redis)


def _tier_problems(shown: str, path: str, tier: str, edition: str) -> Iterator[Problem]:
    perf = re.fullmatch(r"db-perf-optimized-N-([0-9]+)", tier)
    if edition == "ENTERPRISE_PLUS":
        if not perf or int(perf.group(1)) not in PERF_OPTIMIZED_CPUS:
            yield Problem(shown, path, f"{tier!r} is not an ENTERPRISE_PLUS tier (the API refuses it)",
                          "use db-perf-optimized-N-<2|4|8|16|32|...|128>, or edition: ENTERPRISE")
        return
    if perf:
        yield Problem(shown, path, f"{tier!r} is an ENTERPRISE_PLUS tier",
                      "use db-custom-<vCPUs>-<MB>, or edition: ENTERPRISE_PLUS")
    custom = re.fullmatch(r"db-custom-([0-9]+)-([0-9]+)", tier)
    if custom:
        cpus, mb = int(custom.group(1)), int(custom.group(2))
        if cpus != 1 and (cpus % 2 or not 2 <= cpus <= 96):
            yield Problem(shown, path, f"{cpus} vCPUs is not a Cloud SQL shape", "use 1 or an even number of vCPUs up to 96")
        elif mb % 256 or mb < 3840 or not 0.9 * 1024 * cpus <= mb <= 6.5 * 1024 * cpus:
            yield Problem(shown, path, f"{mb} MB is not valid memory for {cpus} vCPU(s)",
                          "use a multiple of 256 MB, at least 3840, between 0.9 and 6.5 GB per vCPU "
                          "(db-custom-1-3840, db-custom-2-7680)")


def _auto_pause_problems(shown: str, pg: dict) -> Iterator[Problem]:
    if "replica" in pg:
        yield Problem(shown, "data.postgres.auto_pause", "cannot stop a primary that feeds a cross-region replica",
                      "remove auto_pause or replica")
    yield from _time_zone_problems(shown, "data.postgres.auto_pause.time_zone", pg["auto_pause"]["time_zone"])


def _time_zone_problems(shown: str, path: str, zone: str) -> Iterator[Problem]:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # Listing the zones walks the whole tz database (~30 ms): only for a name that failed.
        known = zoneinfo.available_timezones()
        if not known:  # a machine without tz data cannot judge; the scheduler API still will
            return
        close = difflib.get_close_matches(zone, sorted(known), n=1)
        yield Problem(shown, path, f"{zone!r} is not an IANA time zone",
                      f"did you mean {close[0]!r}?" if close else "use a name such as Europe/Brussels or Etc/UTC")


def _production_problems(shown: str, pg: dict, redis: dict) -> Iterator[Problem]:
    rules = (
        ("data.postgres.availability", pg["availability"] == "REGIONAL", "production without HA: the database is ZONAL",
         "set availability: REGIONAL (a standby in a second zone with automatic failover)"),
        ("data.postgres.tier", pg["tier"] not in SHARED_CORE_TIERS,
         f"production on shared-core tier {pg['tier']}, which has no SLA",
         "use a dedicated-core tier such as db-custom-2-7680"),
        ("data.postgres.backups.enabled", pg["backups"]["enabled"], "production without automated backups",
         "set backups.enabled: true"),
        ("data.postgres.backups.point_in_time_recovery", pg["backups"]["point_in_time_recovery"],
         "production without point-in-time recovery", "set backups.point_in_time_recovery: true"),
        ("data.postgres.replica", "replica" in pg, "production without a cross-region replica",
         "add replica: {tier: ...}; it runs in project.dr_region"),
        ("data.postgres.deletion_protection", pg["deletion_protection"], "production without deletion protection",
         "set deletion_protection: true"),
        ("data.postgres.auto_pause", "auto_pause" not in pg, "production must not stop its database when idle",
         "remove auto_pause"),
        ("data.redis.tier", redis["tier"] == "STANDARD_HA", "production without HA: Redis is BASIC",
         "set tier: STANDARD_HA (a replica in a second zone with automatic failover)"),
        ("data.redis.transit_encryption", redis["transit_encryption"], "production without TLS to Redis",
         "set transit_encryption: true"),
        ("data.redis.rdb_snapshot_period", redis["rdb_snapshot_period"] != "DISABLED",
         "production without Redis persistence",
         "set rdb_snapshot_period, for example TWELVE_HOURS"),
    )
    for path, ok, message, fix in rules:
        if not ok:
            yield Problem(shown, path, message, fix)


def derived_names(data: dict, name: str) -> Iterator[tuple[str, str, str]]:
    """(key path that produced it, name, kind) for every name the stacks derive from the file."""
    yield "state.bucket", data["state"]["bucket"], "bucket name"
    yield "(file name)", f"{APP}-{name}-vpc", "resource name"
    yield "(file name)", f"{SHORT_APP}-{name}-conn", "VPC Access connector name"
    yield "(file name)", f"{APP}-{name}-function-sources", "bucket name"
    yield "(file name)", f"{SHORT_APP}-{name}-api-build", "service account id"
    for runtime in RUNTIMES:
        yield runtime, f"{SHORT_APP}-{name}-{runtime}", "service account id"
    yield "frontend", f"{APP}-{name}-frontend", "Cloud Run service name"
    for service in data["microservices"]["services"]:
        key = f"microservices.services.{service}"
        yield key, f"{SHORT_APP}-{name}-{service}", "service account id"
        yield key, f"{APP}-{name}-{service}", "Cloud Run service name"
    pg = data["data"]["postgres"]
    yield "(file name)", f"{APP}-{name}-{DataNames.SQL}", "resource name"
    yield "(file name)", f"{APP}-{name}-{DataNames.REDIS}", "Memorystore instance id"
    yield "(file name)", f"{APP}-{name}-{DataNames.REDIS_AUTH}", "resource name"
    if "replica" in pg:
        yield "data.postgres.replica", f"{APP}-{name}-{DataNames.SQL_REPLICA}", "resource name"
    if "locked_copy" in pg["backups"]:
        key = "data.postgres.backups.locked_copy"
        yield key, f"{APP}-{name}-{DataNames.SQL_COPY}", "bucket name"
        yield key, f"{APP}-{name}-{DataNames.SQL_COPY}", "Cloud Run service name"
        yield key, f"{SHORT_APP}-{name}-{DataNames.SQL_COPY}", "service account id"
        yield key, DataNames.custom_role_id(f"{APP}-{name}-{DataNames.SQL_COPY}"), "custom role id"
    if "auto_pause" in pg:
        yield "data.postgres.auto_pause", f"{APP}-{name}-{DataNames.PAUSE_SOURCE}", "bucket name"
        yield "data.postgres.auto_pause", f"{APP}-{name}-{DataNames.PAUSE_FUNCTION}", "Cloud Run service name"
        yield "data.postgres.auto_pause", f"{SHORT_APP}-{name}-{DataNames.PAUSE_ACCOUNT}", "service account id"
        yield "data.postgres.auto_pause", f"{SHORT_APP}-{name}-{DataNames.PAUSE_PUSH_ACCOUNT}", "service account id"
        yield "data.postgres.auto_pause", f"{SHORT_APP}-{name}-{DataNames.PAUSE_ACCOUNT}-build", "service account id"
        yield ("data.postgres.auto_pause", DataNames.custom_role_id(f"{APP}-{name}-{DataNames.PAUSE_ACCOUNT}"),
               "custom role id")
    yield "(file name)", f"{SHORT_APP}-{name}-github", "workload identity pool id"
    yield "(file name)", f"{SHORT_APP}-{name}-deployer", "service account id"
    yield "(file name)", f"{SHORT_APP}-{name}-planner", "service account id"
    if data["events"]["backend"] == "cloud-run":
        yield "events", f"{SHORT_APP}-{name}-{EVENTS_COMPONENT}", "service account id"
        yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}", "Cloud Run service name"
        yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}-log", "bucket name"
    else:
        yield "events", f"{APP}-{name}-{EVENTS_COMPONENT}", "resource name"


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
        images=ImagesConfig(**data["images"]),
        frontend=_run_service("frontend", data["frontend"]),
        api=_api(data["api"]),
        microservices=tuple(
            _run_service(service_name, merged)
            for service_name, _, merged in _run_services(data) if service_name != "frontend"
        ),
        data=_build_data(data["data"]),
        events=_events(data["events"]),
        delivery=DeliveryConfig(
            repository=data["delivery"]["repository"],
            repository_id=data["delivery"]["repository_id"],
            repository_owner_id=data["delivery"]["repository_owner_id"],
            deploy_branches=tuple(data["delivery"]["deploy_branches"]),
            plan_branches=tuple(data["delivery"]["plan_branches"]),
        ),
        load_profile=_load_profile(data),
        monitoring=_monitoring(data["monitoring"]),
        cost=_cost(data["cost"]),
        compliance=_compliance(data["compliance"]),
        disaster_recovery=DisasterRecoveryConfig(**data["disaster_recovery"]),
    )


def _monitoring(settings: dict) -> MonitoringConfig:
    return MonitoringConfig(
        notification_emails=tuple(settings["notification_emails"]),
        log_retention_days=settings["log_retention_days"],
        latency=LatencyAlert(**settings["latency"]),
        errors=ErrorAlert(ratio=float(settings["errors"]["ratio"]), duration_seconds=settings["errors"]["duration_seconds"]),
        scaling_duration_seconds=settings["scaling"]["duration_seconds"],
        postgres=PostgresAlerts(**{k: float(v) if k.endswith("utilization") else v for k, v in settings["postgres"].items()}),
        redis=RedisAlerts(memory_usage_ratio=float(settings["redis"]["memory_usage_ratio"]),
                          duration_seconds=settings["redis"]["duration_seconds"]),
        kafka_duration_seconds=settings["kafka"]["duration_seconds"],
        uptime=UptimeConfig(**settings["uptime"]),
        alerting=settings["alerting"],
    )


def _cost(cost: dict) -> CostConfig:
    return CostConfig(
        billing_account=cost["billing_account"],
        currency=cost["currency"],
        monthly_amount=cost["monthly_amount"],
        tier_amounts=MappingProxyType(dict(sorted(cost["tier_amounts"].items()))),
        notification_emails=tuple(cost["notification_emails"]),
    )


def _compliance(compliance: dict) -> ComplianceConfig:
    return ComplianceConfig(
        organization_id=compliance.get("organization_id"),
        data_access_services=tuple(compliance["data_access_services"]),
        data_access_log_types=tuple(compliance["data_access_log_types"]),
        audit_log_retention_days=compliance["audit_log_retention_days"],
        lock_audit_bucket=compliance["lock_audit_bucket"],
        secret_rotation_days=compliance.get("secret_rotation_days"),
        notification_emails=tuple(compliance["notification_emails"]),
    )


def _build_data(data: dict) -> DataConfig:
    pg, redis = data["postgres"], data["redis"]
    pause = pg.get("auto_pause")
    return DataConfig(
        postgres=PostgresConfig(
            database_version=pg["database_version"],
            edition=pg["edition"],
            tier=pg["tier"],
            availability=pg["availability"],
            disk_size_gb=pg["disk_size_gb"],
            disk_autoresize_limit_gb=pg["disk_autoresize_limit_gb"],
            deletion_protection=pg["deletion_protection"],
            databases=tuple(pg["databases"]),
            clients=tuple(pg["clients"]),
            query_insights=pg["query_insights"],
            backups=_backups(pg["backups"]),
            maintenance=MaintenanceWindow(**pg["maintenance"]),
            replica=ReplicaConfig(**pg["replica"]) if "replica" in pg else None,
            auto_pause=AutoPauseConfig(idle_minutes=pause["idle_minutes"], wake_schedule=pause.get("wake_schedule"),
                                       time_zone=pause["time_zone"]) if pause is not None else None,
        ),
        redis=RedisConfig(
            tier=redis["tier"],
            memory_size_gb=redis["memory_size_gb"],
            redis_version=redis["redis_version"],
            transit_encryption=redis["transit_encryption"],
            rdb_snapshot_period=redis["rdb_snapshot_period"],
            maintenance=MaintenanceWindow(**redis["maintenance"]),
            clients=tuple(redis["clients"]),
        ),
    )


def _backups(settings: dict) -> BackupConfig:
    values = dict(settings)
    copy_ = values.pop("locked_copy", None)
    return BackupConfig(**values, locked_copy=LockedCopyConfig(**copy_) if copy_ else None)


def _events(settings: dict) -> EventsConfig:
    # max_instances is not carried: the schema admits only 1 and the broker is always one instance.
    kafka = {key: value for key, value in settings["cloud_run"].items() if key != "max_instances"}
    return EventsConfig(
        backend=settings["backend"],
        topics=tuple(TopicConfig(name=name, **topic) for name, topic in sorted(settings["topics"].items())),
        producers=tuple(settings["producers"]),
        consumers=tuple(settings["consumers"]),
        cloud_run=KafkaOnCloudRunConfig(**kafka),
        managed=ManagedKafkaConfig(**settings["managed"]),
    )


def _run_service(name: str, settings: dict) -> RunServiceConfig:
    values = dict(settings)
    values["env"] = MappingProxyType(dict(values["env"]))
    values["calls"] = tuple(values["calls"])
    values["traffic"] = tuple(TrafficSplit(**split) for split in values.get("traffic", ()))
    return RunServiceConfig(name=name, **values)


def _api(settings: dict) -> ApiConfig:
    values = dict(settings)
    values["source_object"] = values.get("source_object")
    values["secrets"] = MappingProxyType(dict(values["secrets"]))
    values["env"] = MappingProxyType(dict(values["env"]))
    values["calls"] = tuple(values["calls"])
    return ApiConfig(**values)


KAFKA_RUNTIME = "kafka"  # the `service` label of the Kafka service on Cloud Run


def _load_profile(data: dict) -> LoadProfileConfig:
    profile = dict(data["load_profile"])
    listed = profile.pop("runtimes")
    mean = profile["mean_request_seconds"]
    runtimes = {}
    for runtime in _runtime_names(data):
        load = listed.get(runtime, {"calls_per_request": 1})
        runtimes[runtime] = RuntimeLoad(float(load["calls_per_request"]), float(load.get("mean_request_seconds", mean)))
    events = data["events"]
    if events["backend"] == "cloud-run":
        # The broker's REST ingress takes one call per event published: each producer call, at most.
        published = sum(runtimes[name].calls_per_request for name in events["producers"])
        runtimes[KAFKA_RUNTIME] = RuntimeLoad(published, mean)
    numbers = {key: value if key == "requests_per_month" else float(value) for key, value in profile.items()}
    return LoadProfileConfig(runtimes=MappingProxyType(runtimes), **numbers)


# --- small helpers ----------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _join(path: str, key: Any) -> str:
    # Odd keys (spaces, newlines, dots, non-strings) are quoted so each problem stays one readable line.
    text = key if isinstance(key, str) and _PLAIN_KEY.match(key) else repr(key)
    return f"{path}.{text}" if path else text


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
