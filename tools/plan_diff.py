#!/usr/bin/env python
"""`make diff`: what a change does to each stack, judged by Terraform's plan, offline.

For each stack, the base (the committed snapshots, or `--ref REF` synthesized from a temporary
export of that commit) is applied with the google provider stand-in (provider_standin/) to a
scratch local state; the working tree's synthesis is planned against that state, and
`terraform show -json` of the plan is judged by tools/plan_review.py: every create, update in
place, delete and replace (with the attributes that force it), and every protected resource
(policies/protected.py) a change would delete, replace or push into an update Google refuses.
Beside each stack, the monthly cost difference.

    make diff                   # against synth_tests/__snapshots__
    make diff REF=origin/main   # against another commit
    ALLOW_REPLACE=<address>[,<address>...] make diff   # a reviewed exception

Exit status: 0 when nothing protected is at risk (or every such address is in ALLOW_REPLACE),
3 when a protected resource is at risk, 4 when nothing is but the change takes an environment or
a tier past its budget, 2 when the diff could not be made (a synthesis or a Terraform run failed:
its message says which).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cost.budget import EXIT_BUDGET, budget_delta  # noqa: E402  (after the path: run as a script)
from cost.prices import load_prices  # noqa: E402
from environments.loader import ConfigError, load_all  # noqa: E402
from provider_standin.terraform import prepare_workdir, run_terraform, without_imports, write_cli_config  # noqa: E402
from tools.plan_review import report  # noqa: E402
from tools.validate import diagnostic_line, terraform_diagnostics  # noqa: E402

SNAPSHOTS = ROOT / "synth_tests" / "__snapshots__" / "test_snapshots"
SNAPSHOT_NAME = "test_stack_matches_snapshot[{}].json"
EXIT_OK, EXIT_ERROR, EXIT_PROTECTED = 0, 2, 3
TF_FLAGS = ["-input=false", "-lock=false", "-no-color"]


class DiffError(Exception):
    """The diff could not be made; str() says what failed and how to see more."""


@dataclass(frozen=True)
class Planned:
    plan: dict  # `terraform show -json` of the plan
    prevent_destroy: frozenset[str]  # addresses whose lifecycle.prevent_destroy was set aside to plan
    imports: frozenset[str] = frozenset()  # addresses of `import` blocks set aside to plan (the stand-in reads nothing)


# --- where the two sides come from -------------------------------------------------


def synthesize(project: Path, outdir: Path) -> Path:
    """Run `main.py` of the tree at `project`; return its stacks folder."""
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run([sys.executable, "main.py", "--outdir", str(outdir)], cwd=project, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise DiffError(f"synthesis of {project} failed:\n{run.stderr.strip()}")
    return outdir / "stacks"


def snapshot_stacks(workdir: Path, head: Path) -> Path:
    """The committed snapshots as stack folders. A snapshot holds no function archives: each
    borrows the working tree's `assets/`, so an archive whose name (a hash of its content) is
    unchanged plans as unchanged, and a changed one as a new object."""
    prefix, suffix = SNAPSHOT_NAME.split("{}")
    stacks = workdir / "snapshots"
    for path in sorted(SNAPSHOTS.glob(SNAPSHOT_NAME.replace("[{}]", "*"))):
        name = path.name[len(prefix):-len(suffix)]
        folder = stacks / name
        folder.mkdir(parents=True)
        shutil.copy(path, folder / "cdk.tf.json")
        if (head / name / "assets").is_dir():
            (folder / "assets").symlink_to(head / name / "assets", target_is_directory=True)
    return stacks


def ref_stacks(ref: str, workdir: Path) -> Path:
    """Synthesize `ref` from a temporary export of its tree (`git archive`): no checkout, no
    entry in the repository's worktree list, nothing left behind."""
    tree = workdir / "ref"
    tree.mkdir()
    archive = workdir / "ref.tar"
    with archive.open("wb") as out:
        run = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, stdout=out, stderr=subprocess.PIPE)
    if run.returncode != 0:
        raise DiffError(f"git archive {ref} failed: {run.stderr.decode().strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return synthesize(tree, workdir / "ref.out")


# --- Terraform --------------------------------------------------------------------


def _terraform(args: list[str], workdir: Path, env: dict, what: str) -> str:
    run = run_terraform(args, workdir, env)
    if run.returncode != 0:
        lines = [diagnostic_line(what, d) for d in terraform_diagnostics(args[0], run.stdout)] if "-json" in args else []
        detail = "\n".join(dict.fromkeys(lines)) or (run.stderr or run.stdout).strip()[-3000:]
        raise DiffError(f"terraform {args[0]} of {what} failed:\n{detail}")
    return run.stdout


def apply_stack(what: str, stack: Path, workdir: Path, env: dict) -> Path:
    """Apply a synthesized stack folder with the stand-in to a fresh local state; return the state file."""
    prepare_workdir(stack, workdir)
    _terraform(["apply", "-auto-approve", "-json", *TF_FLAGS], workdir, env, what)
    return workdir / "terraform.tfstate"


def without_prevent_destroy(config: Path) -> frozenset[str]:
    """Drop `lifecycle.prevent_destroy` from a stack file; return the addresses that had it.

    Terraform stops a plan that would destroy such a resource, with no plan to review; without
    it the plan shows the change, and the report says Terraform would refuse to apply it."""
    stack = json.loads(config.read_text())
    guarded = set()
    for type_, group in stack.get("resource", {}).items():
        for name, body in group.items():
            if (body.get("lifecycle") or {}).pop("prevent_destroy", None):
                guarded.add(f"{type_}.{name}")
    config.write_text(json.dumps(stack, indent=2) + "\n")
    return frozenset(guarded)


def plan_against(what: str, stack: Path | None, state: Path | None, workdir: Path, env: dict) -> Planned:
    """Terraform's plan (`show -json`) of `stack` against `state`; no stack plans the state's destruction."""
    if stack is None:
        prepare_workdir(state.parent, workdir)
        args = ["plan", "-destroy"]
    else:
        prepare_workdir(stack, workdir)
        # No refresh: the stand-in reads state back unchanged, so refreshing would only cost time.
        args = ["plan", "-refresh=false"]
    guarded = without_prevent_destroy(workdir / "cdk.tf.json")
    imports = without_imports(workdir / "cdk.tf.json")
    if state is not None:
        shutil.copy(state, workdir / "terraform.tfstate")
    _terraform([*args, "-json", "-out=tfplan", *TF_FLAGS], workdir, env, what)
    return Planned(json.loads(_terraform(["show", "-json", "tfplan"], workdir, env, what)), guarded, imports)


def plan_stack(name: str, base: Path | None, head: Path | None, workdir: Path, env: dict) -> Planned:
    """The head stack planned against the base stack applied to a scratch state."""
    state = apply_stack(f"{name} (base)", base, workdir / "base", env) if base is not None else None
    return plan_against(name, head, state, workdir / "head", env)


def verdict(plans: dict[str, Planned], allowed: frozenset[str], github: bool = False) -> tuple[list[str], int]:
    """The report blocks of every stack and the exit status they call for."""
    blocks, blocking, at_risk = [], [], set()
    for name, planned in plans.items():
        text, risky = report(name, planned.plan, allowed, github, planned.prevent_destroy, planned.imports)
        blocks.append(text)
        blocking += [c for c in risky if c.address not in allowed]
        at_risk |= {c.address for c in risky}
    unused = sorted(allowed - at_risk)
    if unused:
        blocks.append(f"note: ALLOW_REPLACE names {', '.join(unused)}, which this change does not put at risk")
    if blocking:
        blocks.append(f"!!! {len(blocking)} protected resource(s) at risk. If it is intended and reviewed, name each in "
                      f"ALLOW_REPLACE={','.join(c.address for c in blocking)}; rollback and moved state: "
                      "docs/runbooks/deploy.md")
        return blocks, EXIT_PROTECTED
    return blocks, EXIT_OK


def allowed_addresses(value: str | None) -> frozenset[str]:
    """ALLOW_REPLACE: addresses separated by commas or white space."""
    return frozenset(a for a in re.split(r"[,\s]+", value or "") if a)


def _stack_json(folder: Path | None) -> dict | None:
    return json.loads((folder / "cdk.tf.json").read_text()) if folder else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="compare with this git ref instead of the committed snapshots")
    parser.add_argument("stacks", nargs="*", help="stacks to show (default: all)")
    args = parser.parse_args(argv)
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    allowed = allowed_addresses(os.environ.get("ALLOW_REPLACE"))
    if shutil.which("terraform") is None:
        print("make diff: no terraform binary on PATH; install Terraform 1.11", file=sys.stderr)
        return EXIT_ERROR
    with tempfile.TemporaryDirectory(prefix="plan-diff.") as tmp:
        work = Path(tmp)
        try:
            configs = {config.name: config for config in load_all()}
            # The ref first: a ref git does not know fails before the working tree is synthesized.
            base = ref_stacks(args.ref, work) if args.ref else None
            head = synthesize(ROOT, work / "head.out")
            base = base or snapshot_stacks(work, head)
            names = args.stacks or sorted({p.parent.name for p in [*base.glob("*/cdk.tf.json"), *head.glob("*/cdk.tf.json")]})
            sides = {n: tuple(d / n if (d / n / "cdk.tf.json").exists() else None for d in (base, head)) for n in names}
            unknown = [n for n, (b, h) in sides.items() if b is None and h is None]
            if unknown:
                raise DiffError(f"no stack named {', '.join(unknown)} on either side; stacks: "
                                f"{', '.join(sorted(p.parent.name for p in head.glob('*/cdk.tf.json')))}")
            env = write_cli_config()
            with ThreadPoolExecutor(max_workers=2) as pool:
                plans = dict(zip(names, pool.map(lambda n: plan_stack(n, *sides[n], work / "tf" / n, env), names)))
        except (DiffError, ConfigError) as error:
            print(error, file=sys.stderr)
            return EXIT_ERROR
        print(f"changes from {args.ref or 'the committed snapshots'} to the working tree, as Terraform plans them "
              "with the provider stand-in (Google's API can still refuse what only it checks)\n")
        blocks, status = verdict(plans, allowed, github)
        prices = load_prices()
        over_budget = []
        for name, block in zip(names, blocks):
            print(block + "\n")
            before, after = (_stack_json(side) for side in sides[name])
            if before and after and name in configs:
                # Both sides priced with today's load profile: the figure is the change's alone.
                cost = budget_delta(name, before, after, configs[name].load_profile, prices, configs[name].cost)
                print("cost " + cost.text + "\n")
                over_budget += [f"{name} {scope}" for scope in cost.newly_exceeded]
    for block in blocks[len(names):]:
        print(block)
    if over_budget and status == EXIT_OK:
        print(f"!!! this change takes {', '.join(over_budget)} past its budget (environments/<env>.yaml cost)")
        return EXIT_BUDGET
    return status


if __name__ == "__main__":
    sys.exit(main())
