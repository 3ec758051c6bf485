#!/usr/bin/env python
"""Synthesize one HexProperty stack per environment file into cdktf.out.

Environment files are read and checked before cdktf is imported: a bad file stops here
with one line per problem, exit status 2, no traceback. Synthesis writes into a fresh
directory beside the output and replaces it only when every stack succeeded, so a
failed run leaves the previous `cdktf.out` byte-identical.

`cdktf synth` runs this file (cdktf.json) with CDKTF_OUTDIR set; `make synth` runs it directly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from environments.loader import ENVIRONMENTS_DIR, ConfigError, load_all

EXIT_BAD_INPUT = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environments", nargs="*", metavar="ENV",
                        help="environments to synthesize (default: every environments/*.yaml)")
    parser.add_argument("--environments-dir", type=Path, default=ENVIRONMENTS_DIR,
                        help="folder holding the environment files (default: %(default)s)")
    parser.add_argument("--outdir", type=Path, default=Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out")),
                        help="output folder, replaced only on success (default: $CDKTF_OUTDIR or cdktf.out)")
    return parser.parse_args(argv)


def synthesize(configs: list, outdir: Path) -> list[str]:
    """Build every stack into a sibling temporary folder, then swap it into `outdir`.

    Returns the warnings constructs attached (cdktf annotations): `cdktf synth` prints them
    from the manifest, a direct run would not."""
    from cdktf import App  # imported late: loading the jsii assemblies takes seconds

    from constructs.stack import HexPropertyStack

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        app = App(outdir=str(staging))
        for config in configs:
            HexPropertyStack(app, config)
        app.synth()
        warnings = _warnings(staging / "manifest.json")
        _replace(outdir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return warnings


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
    try:
        configs = load_all(args.environments_dir, args.environments)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"synthesis stopped: {len(error.problems)} problem(s); {args.outdir} left untouched",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in synthesize(configs, args.outdir):
        print(warning, file=sys.stderr)
    names = ", ".join(c.name for c in configs)
    print(f"synthesized {names} into {args.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
