"""Terraform 1.11 itself against the google provider stand-in, on small crafted configs.

Each test writes a config into a temporary directory and runs terraform through
provider_standin/terraform.py; assertions read `-json` output.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provider_standin.schema import SCHEMA_FILE
from provider_standin.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE
from provider_standin.terraform import json_messages, run_terraform, write_cli_config

pytestmark = [
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
    pytest.mark.skipif(not SCHEMA_FILE.exists(), reason="the generated schema file is not in this checkout"),
]

PROVIDER = {"google": [{"project": "demo-proj", "region": "europe-west1", "default_labels": {"env": "test"}}]}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return write_cli_config(tmp_path_factory.mktemp("standin-gen"))


def _write(workdir: Path, resources: dict, **extra) -> Path:
    doc = {
        "terraform": {"required_providers": {"google": {"source": "hashicorp/google", "version": "6.50.0"}}},
        "provider": PROVIDER,
        "resource": resources,
        **extra,
    }
    (workdir / "main.tf.json").write_text(json.dumps(doc, indent=1))
    return workdir


def _timed(args, workdir, env):
    started = time.monotonic()
    result = run_terraform(args, workdir, env)
    print(f"terraform {args[0]}: {time.monotonic() - started:.2f}s")
    return result


def _errors(result) -> list[dict]:
    if result.stdout.lstrip().startswith("{\n"):  # `validate -json` prints one document
        return [d for d in json.loads(result.stdout)["diagnostics"] if d["severity"] == "error"]
    return [m["diagnostic"] for m in json_messages(result.stdout) if m.get("type") == "diagnostic" and m["diagnostic"]["severity"] == "error"]


REDIS = {"name": "cache", "memory_size_gb": 1, "region": "europe-west1"}
FIREWALL = {"name": "fw", "network": "default", "source_ranges": ["10.0.0.0/8"], "allow": [{"protocol": "tcp"}]}
SQL_SETTINGS = {"tier": "db-f1-micro", "disk_size": 20}
SQL = {"name": "pg", "database_version": "POSTGRES_15", "deletion_protection": False, "settings": [SQL_SETTINGS]}


@pytest.mark.parametrize(
    "case, resources, expected",
    [
        ("typo", {"google_redis_instance": {"r": {**REDIS, "memory_size_gbb": 1}}}, 'No argument or block type is named "memory_size_gbb"'),
        ("missing required", {"google_redis_instance": {"r": {"name": "cache"}}}, 'The argument "memory_size_gb" is required'),
        ("wrong type", {"google_redis_instance": {"r": {**REDIS, "memory_size_gb": "lots"}}}, "a number is required"),
        ("bad enum", {"google_redis_instance": {"r": {**REDIS, "tier": "PREMIUM"}}}, 'expected tier to be one of ["BASIC", "STANDARD_HA", ""], got PREMIUM'),
        ("second block", {"google_sql_database_instance": {"s": {**SQL, "settings": [SQL_SETTINGS, SQL_SETTINGS]}}}, "No more than 1"),
        ("conflicts", {"google_compute_firewall": {"f": {**FIREWALL, "source_tags": ["a"], "source_service_accounts": ["b@x"]}}}, "conflicts with"),
        ("exactly one of", {"google_compute_firewall": {"f": {k: v for k, v in FIREWALL.items() if k != "allow"}}}, "one of `allow,deny` must be specified"),
        (
            "templated depends_on",
            {"google_redis_instance": {"a": REDIS, "b": {**REDIS, "name": "b", "depends_on": ["${google_redis_instance.a}"]}}},
            "A single static variable reference is required",
        ),
    ],
)
def test_validate_rejects_with_a_clear_diagnostic(case, resources, expected, tmp_path, env):
    result = _timed(["validate", "-json"], _write(tmp_path, resources), env)
    assert result.returncode == 1, result.stdout
    text = " ".join(f'{d["summary"]}: {d.get("detail", "")}' for d in _errors(result))
    assert expected in text, text


def test_provider_diagnostics_point_at_the_attribute_and_the_source(tmp_path, env):
    result = _timed(["validate", "-json"], _write(tmp_path, {"google_redis_instance": {"r": {**REDIS, "tier": "PREMIUM"}}}), env)
    (diagnostic,) = _errors(result)
    assert "resource_redis_instance.go#L" in diagnostic["detail"]
    assert diagnostic["snippet"]["code"].strip().startswith('"tier"')


def _plan_changes(workdir: Path, env) -> dict[str, dict]:
    result = _timed(["plan", "-out=tfplan", "-json"], workdir, env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    shown = run_terraform(["show", "-json", "tfplan"], workdir, env)
    plan = json.loads(shown.stdout)
    return {change["address"]: change for change in plan.get("resource_changes", [])}


def test_create_plans_defaults_and_unknown_computed_values(tmp_path, env):
    changes = _plan_changes(_write(tmp_path, {"google_redis_instance": {"r": REDIS}}), env)
    change = changes["google_redis_instance.r"]["change"]
    assert change["after"]["tier"] == "BASIC" and change["after"]["connect_mode"] == "DIRECT_PEERING"
    assert change["after_unknown"]["host"] is True and change["after_unknown"]["id"] is True
    assert change["after"]["project"] == "demo-proj", "DefaultProviderProject: known at plan"
    assert change["after"]["terraform_labels"] == {"env": "test", "goog-terraform-provisioned": "true"}


def test_replacements_and_updates_after_apply(tmp_path, env):
    before = {
        "google_redis_instance": {"tier_change": REDIS, "grow": {**REDIS, "name": "grow"}},
        "google_sql_database_instance": {
            "shrink": {**SQL, "name": "shrink"},
            "growth": {**SQL, "name": "growth"},
            "disk_type": {**SQL, "name": "disktype"},
        },
    }
    workdir = _write(tmp_path, before)
    applied = _timed(["apply", "-auto-approve", "-json"], workdir, env)
    assert applied.returncode == 0, applied.stdout[-3000:]
    after = json.loads(json.dumps(before))
    after["google_redis_instance"]["tier_change"]["tier"] = "STANDARD_HA"
    after["google_redis_instance"]["grow"]["memory_size_gb"] = 2
    after["google_sql_database_instance"]["shrink"]["settings"][0]["disk_size"] = 10
    after["google_sql_database_instance"]["growth"]["settings"][0]["disk_size"] = 30
    after["google_sql_database_instance"]["disk_type"]["settings"][0]["disk_type"] = "PD_HDD"
    changes = _plan_changes(_write(tmp_path, after), env)

    def outcome(address):
        change = changes[address]["change"]
        return change["actions"], change.get("replace_paths", [])

    assert outcome("google_redis_instance.tier_change") == (["delete", "create"], [["tier"]])
    assert outcome("google_redis_instance.grow") == (["update"], [])
    assert outcome("google_sql_database_instance.shrink") == (["delete", "create"], [["settings", 0, "disk_size"]])
    assert outcome("google_sql_database_instance.growth") == (["update"], [])
    assert outcome("google_sql_database_instance.disk_type") == (["delete", "create"], [["settings", 0, "disk_type"]])


def test_plan_apply_plan_shows_no_changes(tmp_path, env):
    workdir = _write(
        tmp_path,
        {
            "google_service_account": {"runner": {"account_id": "runner-sa", "display_name": "Runner"}},
            "google_project_iam_member": {
                "runner_viewer": {"project": "demo-proj", "role": "roles/viewer", "member": "${google_service_account.runner.member}"}
            },
            "google_storage_bucket": {"assets": {"name": "demo-assets", "location": "EU", "labels": {"team": "web"}}},
        },
        output={"email": {"value": "${google_service_account.runner.email}"}},
    )
    changes = _plan_changes(workdir, env)
    assert changes["google_project_iam_member.runner_viewer"]["change"]["after"]["member"] == (
        "serviceAccount:runner-sa@demo-proj.iam.gserviceaccount.com"
    )
    applied = _timed(["apply", "-auto-approve", "-json", "tfplan"], workdir, env)
    assert applied.returncode == 0, applied.stdout[-3000:]
    again = _timed(["plan", "-detailed-exitcode", "-json"], workdir, env)
    assert again.returncode == 0, again.stdout[-3000:]
    state = json.loads(run_terraform(["show", "-json"], workdir, env).stdout)
    assert state["values"]["outputs"]["email"]["value"] == "runner-sa@demo-proj.iam.gserviceaccount.com"


def test_import_is_refused(tmp_path, env):
    workdir = _write(tmp_path, {"google_storage_bucket": {"b": {"name": "b", "location": "EU"}}})
    result = _timed(["import", "-no-color", "google_storage_bucket.b", "b"], workdir, env)
    assert result.returncode == 1
    assert "The google provider stand-in refuses imports" in result.stderr
    assert "only the real google provider can read a resource from Google" in " ".join(result.stderr.split())


def test_process_starts_fast_and_shuts_down_on_request():
    import grpc
    from tf.gen import grpc_controller_pb2, grpc_controller_pb2_grpc, tfplugin_pb2, tfplugin_pb2_grpc

    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "provider_standin"],
        stdout=subprocess.PIPE,
        env={**os.environ, MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE},
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        line = process.stdout.readline().decode().strip()
        startup = time.monotonic() - started
        print(f"process start to handshake: {startup:.3f}s")
        core, protocol, network, address, kind, certificate = line.split("|")
        assert (core, protocol, network, kind) == ("1", "6", "unix", "grpc") and "=" not in certificate
        der = base64.b64decode(certificate + "=" * (-len(certificate) % 4))
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        channel = grpc.secure_channel(
            f"unix://{address}", grpc.ssl_channel_credentials(pem), options=[("grpc.ssl_target_name_override", "localhost")]
        )
        schema = tfplugin_pb2_grpc.ProviderStub(channel).GetProviderSchema(tfplugin_pb2.GetProviderSchema.Request())
        assert "google_sql_database_instance" in schema.resource_schemas and not schema.diagnostics
        grpc_controller_pb2_grpc.GRPCControllerStub(channel).Shutdown(grpc_controller_pb2.Empty())
        stopping = time.monotonic()
        assert process.wait(timeout=5) == 0
        print(f"shutdown to exit: {time.monotonic() - stopping:.3f}s")
        assert startup < 3
    finally:
        if process.poll() is None:
            process.kill()
