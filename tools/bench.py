"""Synth speed against its floor, as ratios measured in one run (these machines are noisy).

floor: a fresh Python that loads the cdktf and google provider jsii assemblies and nothing else.
synth: a fresh `python main.py` synthesizing every environment.
Each figure is the median of --runs runs; the last line is the ratio (target: at most 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import cdktf\nfrom constructs import google\ngoogle.load_assembly()\n"


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (at least 3)")
    args = parser.parse_args()
    runs = max(args.runs, 3)
    with tempfile.TemporaryDirectory() as tmp:
        timed([sys.executable, "-c", FLOOR])  # warm the file cache and jsii's assembly cache
        # Interleave so drift on a noisy machine hits both figures alike.
        floor_samples, synth_samples = [], []
        for _ in range(runs):
            floor_samples.append(timed([sys.executable, "-c", FLOOR]))
            synth_samples.append(timed([sys.executable, "main.py", "--outdir", f"{tmp}/cdktf.out"]))
    floor, synth = statistics.median(floor_samples), statistics.median(synth_samples)
    print(f"floor (load cdktf + google assemblies): {floor:.2f} s  median of {runs}: "
          + ", ".join(f"{s:.2f}" for s in floor_samples))
    print(f"synth (every environment):             {synth:.2f} s  median of {runs}: "
          + ", ".join(f"{s:.2f}" for s in synth_samples))
    print(f"ratio synth/floor: {synth / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
