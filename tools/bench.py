"""Synth speed against its floor, as ratios measured in one run (these machines are noisy).

floor: a fresh Python that loads the cdktf and google provider jsii assemblies and nothing else.
synth: a fresh `python main.py` synthesizing every environment, and where its time goes
(main.py --timings: each phase's median).
scaling: staging alone with 0, 8 and 16 extra microservices, and the cost of one more service.
terraform: `make validate` (validate + plan of every stack with the provider stand-in) and `make diff`
against the committed snapshots (a synth, the base applied, the head planned), one run each
(targets: 30 s and 60 s, DESIGN.md section 5).
Each synth figure is the median of --runs runs; the cost above the floor per synthesized resource
(target: at most 3 ms) and the ratio synth/floor (target: at most 1.5) come last.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import cdktf\nfrom constructs import google\ngoogle.load_assembly()\n"
EXTRA_SERVICES = (0, 8, 16)


TIMING = re.compile(r"^timing: (.+): ([0-9.]+)$", re.MULTILINE)


def timed(command: list[str], phases: dict[str, list[float]] | None = None) -> float:
    """Wall time of `command`; with `phases`, also collect the `timing:` lines it prints."""
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL if phases is None else subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    for phase, seconds in TIMING.findall(run.stderr or ""):
        phases.setdefault(phase, []).append(float(seconds))
    return elapsed


def median_line(label: str, samples: list[float]) -> str:
    return f"{label:<40} {statistics.median(samples):.2f} s  median of {len(samples)}: " + ", ".join(
        f"{s:.2f}" for s in samples)


def staging_with_services(folder: Path, extra: int) -> Path:
    """An environments folder whose staging file declares `extra` more microservices."""
    envdir = folder / f"envs-{extra}"
    envdir.mkdir()
    shutil.copy(ROOT / "environments" / "environment.schema.json", envdir)
    data = yaml.safe_load((ROOT / "environments" / "staging.yaml").read_text())
    data["microservices"]["services"].update({f"bench{n:02d}": {} for n in range(extra)})
    (envdir / "staging.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return envdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (at least 3)")
    args = parser.parse_args()
    runs = max(args.runs, 3)
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/cdktf.out"
        timed([sys.executable, "-c", FLOOR])  # warm the file cache and jsii's assembly cache
        # Interleave so drift on a noisy machine hits every figure alike.
        floor, synth = [], []
        phases: dict[str, list[float]] = {}
        scaling: dict[int, list[float]] = {extra: [] for extra in EXTRA_SERVICES}
        envdirs = {extra: staging_with_services(Path(tmp), extra) for extra in EXTRA_SERVICES}
        for _ in range(runs):
            floor.append(timed([sys.executable, "-c", FLOOR]))
            synth.append(timed([sys.executable, "main.py", "--timings", "--outdir", out], phases))
            for extra, envdir in envdirs.items():
                scaling[extra].append(timed([sys.executable, "main.py", "--environments-dir", str(envdir),
                                             "--outdir", out]))
    for extra in EXTRA_SERVICES:
        print(median_line(f"staging with {extra} extra microservices:", scaling[extra]))
    low, high = (statistics.median(scaling[n]) for n in (EXTRA_SERVICES[0], EXTRA_SERVICES[-1]))
    print(f"each extra microservice: +{(high - low) / EXTRA_SERVICES[-1] * 1000:.0f} ms")
    floor_median = statistics.median(floor)
    print("where a synth's time goes (median of each phase, and its share of the floor):")
    for phase, samples in phases.items():
        seconds = statistics.median(samples)
        print(f"  {phase:<52} {seconds:.2f} s  {seconds / floor_median:.2f}")
    validate = timed([sys.executable, "tools/validate.py"])
    diff = timed([sys.executable, "tools/plan_diff.py"])
    print(f"{'make validate (every stack, one run):':<40} {validate:.2f} s  target 30 s")
    print(f"{'make diff (snapshots vs working tree):':<40} {diff:.2f} s  target 60 s")
    print(median_line("floor (load cdktf + google assemblies):", floor))
    print(median_line("synth (every environment):", synth))
    above = (statistics.median(synth) - floor_median) / synthesized_resources(ROOT / "cdktf.out" / "stacks") * 1000
    print(f"cost above the floor per synthesized resource: {above:.1f} ms  target 3 ms")
    print(f"ratio synth/floor: {statistics.median(synth) / floor_median:.2f}  target 1.5")
    return 0


def synthesized_resources(stacks: Path) -> int:
    """Resources and data sources in every stack `make validate` just judged."""
    return sum(len(group) for path in stacks.glob("*/cdk.tf.json")
               for section in ("resource", "data") for group in json.loads(path.read_text()).get(section, {}).values())


if __name__ == "__main__":
    sys.exit(main())
