#!/usr/bin/env python
"""Synthesize one HexProperty stack per environment file into cdktf.out.

Environment files are read and checked before cdktf is imported: a bad file stops here
with one line per problem, exit status 2, no traceback. Synthesis writes into a fresh
directory beside the output and replaces it only when every stack succeeded, so a
failed run leaves the previous `cdktf.out` byte-identical.

`cdktf synth` runs this file (cdktf.json) with CDKTF_OUTDIR set; `make synth` runs it directly.
With --bootstrap it synthesizes the `<env>-bootstrap` stacks instead (the state buckets,
local state in bootstrap/<env>.tfstate): `make bootstrap ENV=<env>` applies one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

_STARTED = time.perf_counter()  # --timings counts from here: the loader's import (jsonschema) is a phase's cost

from environments.loader import ENVIRONMENTS_DIR, ConfigError, load_all  # noqa: E402

EXIT_POLICY = 1
EXIT_BAD_INPUT = 2
REPORT_NAME = "policy-report.json"


class PolicyViolation(Exception):
    """Error-level policy failures; str() is one line per failure."""


class Timings:
    """Wall time of each phase of a run, printed to stderr with --timings (`make bench` reads them)."""

    def __init__(self, enabled: bool = False):
        self.enabled = enabled
        self._last = _STARTED

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        if self.enabled:
            print(f"timing: {phase}: {now - self._last:.3f}", file=sys.stderr)
        self._last = now


BOOTSTRAP_STATE_DIR = Path(__file__).resolve().parent / "bootstrap"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environments", nargs="*", metavar="ENV",
                        help="environments to synthesize (default: every environments/*.yaml)")
    parser.add_argument("--environments-dir", type=Path, default=ENVIRONMENTS_DIR,
                        help="folder holding the environment files (default: %(default)s)")
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")),
                        help="output folder, replaced only on success (default: $CDKTF_OUTDIR or cdktf.out)")
    parser.add_argument("--bootstrap", action="store_true",
                        help="synthesize the <env>-bootstrap stacks (state bucket, CI identities, local state) instead")
    parser.add_argument("--before-first-deploy", action="store_true",
                        help="with --bootstrap: leave out the deployer's grants on the main stack's service "
                             "accounts, which do not exist before its first apply")
    parser.add_argument("--timings", action="store_true",
                        help="print the wall time of each phase to stderr (`timing: <phase>: <seconds>`)")
    return parser.parse_args(argv)


def synthesize(configs: list, outdir: Path, *, bootstrap: bool = False, before_first_deploy: bool = False,
               timings: Timings | None = None) -> None:
    """Build every stack into a sibling temporary folder, then swap it into `outdir`."""
    timings = timings or Timings()
    from cdktf import App  # imported late: loading the jsii assemblies takes seconds

    from constructs import google
    from constructs.stack import HexPropertyStack

    timings.mark("tier modules, imported during the provider load")
    google.finish_loading()
    timings.mark("rest of the provider load")
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        app = App(outdir=str(staging))
        if bootstrap:
            from constructs.bootstrap import BootstrapStack  # its modules only when asked
            from constructs.concerns.ci_access import stack_needs

            # The CI identities' powers follow what the main stack holds: build it (not written out) and read it.
            scratch = App(outdir=tempfile.mkdtemp(prefix=".main-stacks.", dir=staging.parent))
            for config in configs:
                needs = stack_needs(HexPropertyStack(scratch, config).to_terraform())
                # Terraform runs in the stack's folder, which the next synth replaces: the
                # state lives outside it, addressed relative to it so the JSON has no absolute path.
                stack_dir = outdir / "stacks" / f"{config.name}-bootstrap"
                state = os.path.relpath(BOOTSTRAP_STATE_DIR / f"{config.name}.tfstate", stack_dir)
                BootstrapStack(app, config, state_path=state, needs=needs, with_account_grants=not before_first_deploy)
            shutil.rmtree(scratch.outdir, ignore_errors=True)
            timings.mark("building the stacks")
            app.synth()
        else:
            stacks = [HexPropertyStack(app, config) for config in configs]
            timings.mark("building the stacks")
            _synth_with_policies(app, stacks, staging)
            _stop_on_ungranted_types(staging, configs)
        timings.mark("synthesis and policy pack")
        _replace(outdir, staging)
        timings.mark("replacing the output folder")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _synth_with_policies(app, stacks: list, staging: Path) -> None:
    try:
        app.synth()
    except RuntimeError:
        # cdktf refuses to finish when error annotations exist; say which, in our words.
        _stop_on_policy_failures(stacks)
        raise
    # `cdktf synth` sets CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS, and cdktf then finishes despite
    # them: the pack's failures must stop us here too, before the output replaces cdktf.out.
    _stop_on_policy_failures(stacks)
    for stack in stacks:
        report = staging / "stacks" / stack.config.name / REPORT_NAME
        report.write_text(json.dumps(stack.policies.report(stack), indent=2, sort_keys=True) + "\n")
    # `cdktf synth` (which sets CDKTF_OUTDIR) prints construct warnings, policy warnings among them,
    # from the manifest; a direct run would not, so print them here, and only here.
    if "CDKTF_OUTDIR" not in os.environ:
        for warning in _warnings(staging / "manifest.json"):
            print(warning, file=sys.stderr)


def _stop_on_ungranted_types(staging: Path, configs: list) -> None:
    """A type the CI deployer has no role for, or a data source the planner cannot read, would
    fail in CI after review: stop here, naming the table to extend."""
    from constructs.concerns.ci_access import stack_needs

    problems = []
    for config in configs:
        needs = stack_needs(json.loads((staging / "stacks" / config.name / "cdk.tf.json").read_text()))
        for check in (needs.deployer_roles, needs.planner_permissions):
            try:
                check()
            except ValueError as error:
                problems.append(f"CI-ACCESS {config.name}: {error}")
    if problems:
        raise PolicyViolation("\n".join(problems))


def _stop_on_policy_failures(stacks: list) -> None:
    failures = [f for stack in stacks for f in stack.policies.failures()]
    if failures:
        raise PolicyViolation("\n".join(f"{f.rule} {f.address} ({f.path}): {f.detail}" for f in failures))


def _warnings(manifest: Path) -> list[str]:
    stacks = json.loads(manifest.read_text(encoding="utf-8"))["stacks"]
    return [f"warning: {note['constructPath']}: {note['message']}"
            for stack in stacks.values() for note in stack.get("annotations", []) if note["level"] == "@cdktf/warn"]


def _replace(outdir: Path, new: Path) -> None:
    old = outdir.with_name(f".{outdir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if outdir.exists():
        outdir.rename(old)
    new.rename(outdir)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    timings = Timings(args.timings)
    try:
        configs = load_all(args.environments_dir, args.environments)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"synthesis stopped: {len(error.problems)} problem(s); {args.outdir} left untouched",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    timings.mark("environment files")
    from constructs import google

    google.start_loading()  # node loads the provider while synthesize() imports the tier modules
    google.skip_runtime_type_checks()
    timings.mark("cdktf assembly")
    try:
        synthesize(configs, args.outdir, bootstrap=args.bootstrap, before_first_deploy=args.before_first_deploy,
                   timings=timings)
    except PolicyViolation as violation:
        print(violation, file=sys.stderr)
        print(f"synthesis stopped by the policy pack (rules: policies/rules.py; suppress with a reason: "
              f"policies.pack.suppress); {args.outdir} left untouched", file=sys.stderr)
        return EXIT_POLICY
    names = ", ".join(c.name for c in configs)
    print(f"synthesized {names} into {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
