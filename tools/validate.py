"""`make validate`: Terraform itself validates and plans every synthesized stack, offline.

For each stack in cdktf.out: a scratch copy without its gcs backend (.gen/validate/<stack>),
`terraform validate`, then `terraform plan` against an empty local state (without `import` blocks,
which only the real provider can read), with the google provider
stand-in (provider_standin/) in place of the real provider. That proves what Terraform core and
the provider's schema decide: syntax, references, depends_on, unknown or missing arguments, types,
block counts, enum values, conflicting arguments, the dependency graph. What only Google's API
decides (quotas, IAM propagation, values the API refuses) needs the networked plan in CI.

One line per problem: `<stack>: <address>: <attribute>: <what Terraform or the provider said>`.
Exit 0 when every stack validates and plans, 1 on any problem, 2 when it cannot run at all.

    python tools/validate.py [stack ...]   # default: every stack in cdktf.out
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provider_standin.terraform import (  # noqa: E402  (after the path: run as a script)
    DEFAULT_GEN_DIR, json_messages, prepare_workdir, run_terraform, without_imports, write_cli_config)

STACKS_DIR = ROOT / "cdktf.out" / "stacks"
WORK_DIR = ROOT / ".gen" / "validate"
# Terraform's own note that dev_overrides are in use: expected here, never a problem.
EXPECTED_WARNINGS = {"Provider development overrides are in effect"}


def diagnostic_line(stack: str, diagnostic: dict) -> str:
    """`stack: address: attribute: summary: detail` from one of Terraform's JSON diagnostics."""
    context = (diagnostic.get("snippet") or {}).get("context") or ""
    # JSON configuration names the place as `resource.<type>.<name>[.<attribute path>]`.
    parts = context.split(".", 3) if context.startswith(("resource.", "data.")) else []
    address = diagnostic.get("address") or (
        ".".join(parts[1:3]) if parts and parts[0] == "resource" else ".".join(parts[:3]))
    attribute = parts[3] if len(parts) == 4 else ""
    summary = diagnostic.get("summary", "").strip()
    detail = " ".join(diagnostic.get("detail", "").split())
    text = summary if not detail or detail in summary else f"{summary}: {detail}"
    where = ": ".join(p for p in (stack, address or "(configuration)", attribute) if p)
    prefix = "" if diagnostic.get("severity") == "error" else "warning: "
    return f"{prefix}{where}: {text}"


def terraform_diagnostics(step: str, stdout: str) -> list[dict]:
    """Diagnostics of a `-json` run: validate prints one indented document, plan a stream of lines."""
    if step == "validate":
        found = json.loads(stdout).get("diagnostics", []) if stdout.strip() else []
    else:
        found = [m["diagnostic"] for m in json_messages(stdout) if m.get("type") == "diagnostic"]
    return [d for d in found if d.get("summary") not in EXPECTED_WARNINGS]


def check_stack(stack: str, stack_dir: Path, env: dict[str, str], work_dir: Path = WORK_DIR) -> tuple[list[str], str]:
    """(problem and warning lines, a one-line verdict) for one synthesized stack."""
    workdir = work_dir / stack
    shutil.rmtree(workdir, ignore_errors=True)  # plan against an empty state, every time
    prepare_workdir(stack_dir, workdir)
    lines = []
    for step in (["validate", "-json", "-no-color"],
                 ["plan", "-json", "-no-color", "-input=false", "-lock=false", "-out=tfplan"]):
        if step[0] == "plan":
            without_imports(workdir / "cdk.tf.json")  # validated above; the stand-in cannot read Google
        run = run_terraform(step, workdir, env)
        diagnostics = terraform_diagnostics(step[0], run.stdout)
        lines += [diagnostic_line(stack, d) for d in diagnostics]
        if run.returncode != 0:
            if not any(d.get("severity") == "error" for d in diagnostics):
                lines.append(f"{stack}: terraform {step[0]} failed: {' '.join((run.stderr or run.stdout).split())[:500]}")
            return lines, f"{stack}: terraform {step[0]} refused the stack"
    changes = next((m["changes"] for m in json_messages(run.stdout) if m.get("type") == "change_summary"), {})
    return lines, f"{stack}: valid; the plan creates {changes.get('add', '?')} resources"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", help="stacks to check (default: every stack in cdktf.out)")
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="where the synthesized stacks are")
    args = parser.parse_args(argv)
    if shutil.which("terraform") is None:
        print("validate: no terraform binary on PATH; install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)",
              file=sys.stderr)
        return 2
    available = sorted(p.parent.name for p in args.stacks_dir.glob("*/cdk.tf.json"))
    wanted = args.stacks or available
    missing = [s for s in wanted if s not in available]
    if not wanted or missing:
        print(f"validate: no synthesized stack {', '.join(missing) or 'at all'} in {args.stacks_dir}; run `make synth` first",
              file=sys.stderr)
        return 2
    env = write_cli_config(DEFAULT_GEN_DIR)
    # Two stacks at once: Terraform waits on the provider process as much as it computes.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda s: check_stack(s, args.stacks_dir / s, env), wanted))
    problems = 0
    for lines, verdict in results:
        for line in lines:
            print(line)
            problems += not line.startswith("warning: ")
        print(verdict)
    print(f"validate: {problems} problem(s) in {len(wanted)} stack(s)" if problems else
          f"validate: Terraform accepts {len(wanted)} stack(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
