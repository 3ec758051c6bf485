#!/usr/bin/env python
"""Generate compose.yaml, the local stand-ins for the managed data services, from the
environment files, so local PostgreSQL, Redis and Kafka run the versions the stacks deploy.

Each version comes from the first environment file that sets its key, production first
(what users run), then the others by name; failing that, the key's default in the
environment schema; failing that, FALLBACK, for branches where the tier is not in the
schema yet. `make compose` rewrites compose.yaml; `--check` (a test runs it) fails when
compose.yaml no longer matches the files.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from environments.loader import environment_files, load_schema  # noqa: E402

COMPOSE = ROOT / "compose.yaml"
FIRST = "production"

# The keys the data and events tiers define, agreed across branches.
POSTGRES_KEY = "data.postgres.database_version"   # POSTGRES_16
REDIS_KEY = "data.redis.redis_version"            # REDIS_7_2
KAFKA_KEY = "events.cloud_run.broker_image"       # apache/kafka:3.9.1
FALLBACK = {POSTGRES_KEY: "POSTGRES_16", REDIS_KEY: "REDIS_7_2", KAFKA_KEY: "apache/kafka:3.9.1"}


class ComposeError(Exception):
    pass


@dataclass(frozen=True)
class Version:
    key: str
    value: str
    source: str  # the file, "schema default" or "fallback"


def lookup(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def schema_default(schema: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        schema = schema.get("properties", {}).get(part)
        if schema is None:
            return None
    return schema.get("default")


def resolve(key: str, environments: dict[str, dict], schema: dict) -> Version:
    order = sorted(environments, key=lambda name: (name != FIRST, name))
    for name in order:
        value = lookup(environments[name], key)
        if value is not None:
            return Version(key, str(value), f"environments/{name}.yaml")
    default = schema_default(schema, key)
    if default is not None:
        return Version(key, str(default), "schema default")
    return Version(key, FALLBACK[key], "fallback")


def postgres_image(version: Version) -> tuple[str, int]:
    match = re.fullmatch(r"POSTGRES_(\d+)", version.value)
    if not match:
        raise ComposeError(f"{version.source}: {version.key}: {version.value!r} is not a Cloud SQL PostgreSQL "
                           "version such as POSTGRES_16")
    major = int(match.group(1))
    return f"postgres:{major}", major


def redis_image(version: Version) -> str:
    match = re.fullmatch(r"REDIS_(\d+)_(\d+|X)", version.value)
    if not match:
        raise ComposeError(f"{version.source}: {version.key}: {version.value!r} is not a Memorystore Redis "
                           "version such as REDIS_7_2")
    major, minor = match.groups()
    # REDIS_6_X means "the latest 6.x": the local image follows the major line too.
    return f"redis:{major}" if minor == "X" else f"redis:{major}.{minor}"


def kafka_image(version: Version) -> str:
    if not re.fullmatch(r"[a-z0-9./_-]+:[A-Za-z0-9._-]+", version.value) or version.value.endswith(":latest"):
        raise ComposeError(f"{version.source}: {version.key}: {version.value!r} is not an image with a pinned tag "
                           "such as apache/kafka:3.9.1")
    return version.value


def document(environments: dict[str, dict], schema: dict) -> tuple[dict, list[Version]]:
    versions = [resolve(k, environments, schema) for k in (POSTGRES_KEY, REDIS_KEY, KAFKA_KEY)]
    postgres, major = postgres_image(versions[0])
    # From PostgreSQL 18 the image keeps its data in a versioned folder under /var/lib/postgresql.
    pg_data = "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"
    services = {
        "postgres": {
            "image": postgres,
            "environment": {"POSTGRES_DB": "hexproperty", "POSTGRES_USER": "hexproperty",
                            "POSTGRES_HOST_AUTH_METHOD": "trust"},
            "ports": ["127.0.0.1:5432:5432"],
            "volumes": [f"postgres-data:{pg_data}"],
            "healthcheck": {"test": ["CMD-SHELL", "pg_isready -U hexproperty"], "interval": "5s", "retries": 20},
        },
        "redis": {
            "image": redis_image(versions[1]),
            "ports": ["127.0.0.1:6379:6379"],
            "healthcheck": {"test": ["CMD", "redis-cli", "ping"], "interval": "5s", "retries": 20},
        },
        "kafka": {
            "image": kafka_image(versions[2]),
            # One KRaft node acting as broker and controller: no ZooKeeper, like the stacks.
            "environment": {
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
                "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://localhost:9092",
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
                # The image runs as an unprivileged user; a named volume would mount root-owned and
                # the broker could not write. Topics live in the container: `down` drops them.
                "KAFKA_LOG_DIRS": "/tmp/kraft-combined-logs",
            },
            "ports": ["127.0.0.1:9092:9092"],
        },
    }
    return {"name": "hexproperty", "services": services, "volumes": {"postgres-data": {}}}, versions


def render(environments: dict[str, dict], schema: dict) -> str:
    doc, versions = document(environments, schema)
    header = [
        "# Generated by `make compose` from environments/*.yaml; do not edit (a test checks it).",
        "# Local stand-ins for Cloud SQL, Memorystore and Kafka at the versions the stacks deploy:",
        *(f"#   {v.key} = {v.value} ({v.source})" for v in versions),
        "# Ports listen on 127.0.0.1 only. PostgreSQL trusts local connections: the cloud uses IAM",
        "# authentication, so there is no password to mirror. Start with `docker compose up -d`.",
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def read_environments() -> dict[str, dict]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in environment_files()}


def main(argv: list[str]) -> int:
    try:
        text = render(read_environments(), load_schema())
    except ComposeError as error:
        print(error, file=sys.stderr)
        return 2
    if "--check" in argv:
        if not COMPOSE.exists() or COMPOSE.read_text() != text:
            print("compose.yaml does not match the environment files: run `make compose`", file=sys.stderr)
            return 1
        return 0
    COMPOSE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
