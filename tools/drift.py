"""Tell expected drift from unexpected drift in a refresh-only plan.

Expected drift is what the stack ignores on purpose: the attributes in each resource's
`lifecycle.ignore_changes` (images and revisions the application's CI deploys, the activation
policy the auto-pause function flips, ...), read from the synthesized cdk.tf.json itself so the
two never disagree. Everything else changed outside Terraform, a resource deleted outside it
included, is unexpected.

    terraform plan -refresh-only -out=drift.tfplan && terraform show -json drift.tfplan > drift.json
    tools/drift.py drift.json cdk.tf.json --report drift.md

Exit 0: no unexpected drift (the report lists the expected part); 3: unexpected drift (the report
says what); 2: the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

EXIT_UNEXPECTED = 3
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _path(expression: str) -> tuple:
    """`template[0].containers[0].image` -> ("template", 0, "containers", 0, "image")."""
    return tuple(int(index) if index else name for name, index in _STEP.findall(expression))


def changed_paths(before, after, prefix: tuple = ()) -> list[tuple]:
    """Paths of the leaves that differ between two attribute values."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [p for key in sorted(set(before) | set(after))
                for p in changed_paths(before.get(key), after.get(key), (*prefix, key))]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [p for i, (b, a) in enumerate(zip(before, after)) for p in changed_paths(b, a, (*prefix, i))]
    return [] if before == after else [prefix]


def _ignored(stack: dict, resource_type: str, name: str) -> list[tuple]:
    body = stack.get("resource", {}).get(resource_type, {}).get(name, {})
    return [_path(p) for p in body.get("lifecycle", {}).get("ignore_changes", [])]


def _shown(path: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def classify(plan: dict, stack: dict) -> tuple[list[str], list[str]]:
    """(expected, unexpected) lines, one per drifted resource and kind."""
    expected, unexpected = [], []
    for drift in plan.get("resource_drift", []):
        address, change = drift["address"], drift["change"]
        if drift.get("mode") == "data":
            continue
        if "delete" in change["actions"] or change.get("after") is None:
            unexpected.append(f"{address}: deleted outside Terraform")
            continue
        ignored = _ignored(stack, drift["type"], drift["name"])
        paths = changed_paths(change.get("before"), change.get("after"))
        surprising = [p for p in paths if not any(p[: len(i)] == i for i in ignored)]
        if surprising:
            unexpected.append(f"{address}: {', '.join(_shown(p) for p in surprising)}")
        if len(surprising) < len(paths):
            expected.append(f"{address}: {', '.join(_shown(p) for p in paths if p not in surprising)} (ignored on purpose)")
    return expected, unexpected


def report(stack_name: str, expected: list[str], unexpected: list[str]) -> str:
    lines = [f"### Drift in `{stack_name}`", ""]
    if unexpected:
        lines += ["Changed outside Terraform, not ignored by the stack: bring it back with a deploy, or put the "
                  "change in code (docs/runbooks/deploy.md, Drift).", ""] + [f"- `{u}`" for u in unexpected]
    else:
        lines.append("No unexpected drift.")
    if expected:
        lines += ["", "<details><summary>Expected drift (fields the stack ignores)</summary>", ""]
        lines += [f"- `{e}`" for e in expected] + ["", "</details>"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="terraform show -json of a refresh-only plan")
    parser.add_argument("stack", type=Path, help="the synthesized cdk.tf.json the plan was made from")
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--name", default=None, help="stack name in the report (default: the stack's folder)")
    args = parser.parse_args(argv)
    try:
        plan = json.loads(args.plan.read_text())
        stack = json.loads(args.stack.read_text())
    except (OSError, ValueError) as error:
        print(f"drift: cannot read the input: {error}", file=sys.stderr)
        return 2
    expected, unexpected = classify(plan, stack)
    text = report(args.name or args.stack.parent.name, expected, unexpected)
    if args.report:
        args.report.write_text(text)
    print(text, end="")
    return EXIT_UNEXPECTED if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
