#!/usr/bin/env python
"""Plan review without credentials: what a change does to each stack, from the JSON alone.

Synthesizes the working tree and compares it, per stack, with the committed snapshots
(default) or with a git ref synthesized in a temporary checkout (`--ref origin/main`).
Prints the resources added, removed and changed, with the changed attribute paths, and
flags loudly every change that would delete or replace a stateful resource.

It sees only what the JSON says: Terraform's plan (which also knows the live state and
every provider rule) stays the authority; this runs first, offline, so the risky part of
a change is visible before anyone holds credentials.

    make diff                 # against synth_tests/__snapshots__
    make diff REF=origin/main # against another commit
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cost.estimate import diff as cost_diff  # noqa: E402  (after the path: run as a script)
from cost.estimate import estimate  # noqa: E402
from cost.prices import load_prices  # noqa: E402
from cost.report import diff_text  # noqa: E402
from environments.loader import load_all  # noqa: E402

SNAPSHOTS = ROOT / "synth_tests" / "__snapshots__" / "test_snapshots"
SNAPSHOT_NAME = "test_stack_matches_snapshot[{}].json"

# The one list of resource types that hold data: deleting or replacing one loses it.
# For each, the top-level attributes whose change makes the provider replace the resource
# (ForceNew in google provider 6.50); a change anywhere else updates it in place.
STATEFUL_TYPES: dict[str, frozenset[str]] = {
    "google_sql_database_instance": frozenset({"name", "project", "region", "master_instance_name",
                                               "encryption_key_name", "replica_configuration"}),
    "google_sql_database": frozenset({"name", "instance", "project"}),
    "google_redis_instance": frozenset({"name", "project", "region", "location_id", "alternative_location_id",
                                        "tier", "authorized_network", "connect_mode", "reserved_ip_range",
                                        "transit_encryption_mode", "customer_managed_key"}),
    "google_storage_bucket": frozenset({"name", "project", "location"}),
    "google_managed_kafka_cluster": frozenset({"cluster_id", "project", "location"}),
    "google_managed_kafka_topic": frozenset({"topic_id", "cluster", "project", "location"}),
    "google_secret_manager_secret": frozenset({"secret_id", "project", "replication"}),
    "google_logging_project_bucket_config": frozenset({"bucket_id", "project", "location"}),
    "google_pubsub_subscription": frozenset({"name", "project", "topic"}),
}
SECTIONS = ("resource", "data")


@dataclass
class Change:
    address: str
    kind: str  # "added", "removed" or "changed"
    paths: list[str] = field(default_factory=list)
    risk: str = ""  # why a stateful resource is at risk, empty when it is not

    @property
    def type(self) -> str:
        return self.address.removeprefix("data.").split(".", 1)[0]


def without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_metadata(v) for k, v in value.items() if k != "//"}
    if isinstance(value, list):
        return [without_metadata(v) for v in value]
    return value


def addresses(stack: dict) -> dict[str, Any]:
    """Terraform address -> body of every resource and data source in a synthesized stack."""
    out = {}
    for section in SECTIONS:
        for type_, group in stack.get(section, {}).items():
            for name, body in group.items():
                prefix = "data." if section == "data" else ""
                out[f"{prefix}{type_}.{name}"] = without_metadata(body)
    return out


def attribute_paths(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """The paths at which two values differ: `settings.tier`, `lifecycle_rule[0].condition`."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            child = f"{path}.{key}" if path else key
            if key not in before or key not in after:
                yield child
            else:
                yield from attribute_paths(before[key], after[key], child)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            yield from attribute_paths(old, new, f"{path}[{index}]")
    elif before != after:
        yield path


def diff_stack(before: dict, after: dict) -> list[Change]:
    old, new = addresses(before), addresses(after)
    changes = [Change(a, "added") for a in sorted(set(new) - set(old))]
    for address in sorted(set(old) - set(new)):
        change = Change(address, "removed")
        if change.type in STATEFUL_TYPES:
            change.risk = "DELETED: its data goes with it"
            same_name = [c.address for c in changes if c.type == change.type and new[c.address].get("name") == old[address].get("name")]
            if same_name:
                change.risk += (f"; {same_name[0]} creates it again under a new address (a renamed construct id)."
                                " Keep the id, or add a `moved` block")
        changes.append(change)
    for address in sorted(set(old) & set(new)):
        paths = list(attribute_paths(old[address], new[address]))
        if paths:
            change = Change(address, "changed", paths)
            forcing = sorted({p.split(".")[0].split("[")[0] for p in paths} & STATEFUL_TYPES.get(change.type, frozenset()))
            if forcing:
                change.risk = f"REPLACED (destroyed, then created empty): {', '.join(forcing)} changed"
            changes.append(change)
    return changes


def other_paths(before: dict, after: dict) -> list[str]:
    """Changes outside resources and data sources: outputs, provider, backend, required providers."""
    rest = [k for k in sorted(set(before) | set(after)) if k not in (*SECTIONS, "//")]
    return list(attribute_paths({k: without_metadata(before.get(k)) for k in rest},
                                {k: without_metadata(after.get(k)) for k in rest}))


def report(name: str, before: dict | None, after: dict | None, github: bool = False) -> tuple[str, int]:
    """The text block of one stack and how many stateful resources are at risk."""
    lines = [f"== {name} =="]
    if before is None or after is None:
        lines.append("  (new stack)" if before is None else "  (stack removed: every resource in it is destroyed)")
        before, after = before or {}, after or {}
    changes = diff_stack(before, after)
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for change in changes:
        suffix = f": {', '.join(change.paths)}" if change.paths else ""
        lines.append(f"  {marks[change.kind]} {change.address}{suffix}")
    others = other_paths(before, after)
    lines += [f"  ~ {path}" for path in others]
    risky = [c for c in changes if c.risk]
    for change in risky:
        lines.append(f"  !!! STATEFUL RESOURCE {change.address} would be {change.risk}")
        if github:
            lines.append(f"::error title=Stateful resource at risk ({name})::{change.address} would be {change.risk}")
    counts = {kind: sum(c.kind == kind for c in changes) for kind in marks}
    if changes or others:
        lines.append(f"  {counts['added']} to add, {counts['changed']} to change, {counts['removed']} to remove; "
                     f"{len(risky)} stateful resource(s) at risk")
    else:
        lines.append("  no changes")
    return "\n".join(lines), len(risky)


# --- where the two sides come from -------------------------------------------------


def synthesize(project: Path, outdir: Path) -> dict[str, dict]:
    """Run `main.py` of the tree at `project` and read every stack it wrote."""
    env = dict(os.environ)
    node_bin = ROOT / "node_modules" / ".bin"
    env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run([sys.executable, "main.py", "--outdir", str(outdir)], cwd=project, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"synthesis of {project} failed:\n{run.stderr}")
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


def snapshot_stacks() -> dict[str, dict]:
    prefix, suffix = SNAPSHOT_NAME.split("{}")
    return {p.name[len(prefix):-len(suffix)]: json.loads(p.read_text()) for p in sorted(SNAPSHOTS.iterdir())
            if p.name.startswith(prefix) and p.name.endswith(suffix)}


def ref_stacks(ref: str, workdir: Path) -> dict[str, dict]:
    """Synthesize `ref` from a temporary export of its tree (`git archive`): no checkout, no
    entry in the repository's worktree list, nothing left behind."""
    tree = workdir / "ref"
    tree.mkdir()
    archive = workdir / "ref.tar"
    with archive.open("wb") as out:
        run = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, stdout=out, stderr=subprocess.PIPE, text=False)
    if run.returncode != 0:
        raise RuntimeError(f"git archive {ref} failed: {run.stderr.decode().strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return synthesize(tree, workdir / "ref.out")


def cost_summary(name: str, before: dict, after: dict, profile, prices) -> str:
    """What the change costs per month, beside what it changes (both sides priced with today's
    load profile, so the figure is the infrastructure change alone)."""
    change = cost_diff(estimate(before, name, profile, prices), estimate(after, name, profile, prices))
    return "cost " + diff_text(change)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="compare with this git ref instead of the committed snapshots")
    parser.add_argument("stacks", nargs="*", help="stacks to show (default: all)")
    args = parser.parse_args(argv)
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    with tempfile.TemporaryDirectory(prefix="plan-diff.") as tmp:
        try:
            before = ref_stacks(args.ref, Path(tmp)) if args.ref else snapshot_stacks()
            after = synthesize(ROOT, Path(tmp) / "head.out")
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 2
    base = args.ref or "the committed snapshots"
    print(f"changes from {base} to the working tree (synthesized JSON; `terraform plan` is the authority)\n")
    at_risk = 0
    profiles = {config.name: config.load_profile for config in load_all()}
    prices = load_prices()
    for name in args.stacks or sorted(set(before) | set(after)):
        text, risky = report(name, before.get(name), after.get(name), github)
        print(text + "\n")
        at_risk += risky
        if before.get(name) and after.get(name) and name in profiles:
            print(cost_summary(name, before[name], after[name], profiles[name], prices) + "\n")
    if at_risk:
        print(f"!!! {at_risk} stateful resource(s) would be deleted or replaced: read docs/runbooks/deploy.md "
              "(rollback) before merging")
    return 0


if __name__ == "__main__":
    sys.exit(main())
