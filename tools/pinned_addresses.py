#!/usr/bin/env python
"""The committed list of pinned addresses (synth_tests/pinned_addresses.json): every protected
resource (policies/protected.py) of every stack, by the Terraform address constructs/shared/protection.py
`keep()` gives it.

A protected resource that changes address is, to Terraform, one resource destroyed and another
created empty. The list is what synth_tests/test_pinned_addresses.py holds each synthesis to;
`write` regenerates it from synthesized stacks, for a change that was reviewed (a new protected
resource, or a rename that carries its `move_from_id`):

    python main.py --outdir /tmp/out && python main.py --bootstrap --outdir /tmp/out-bootstrap
    python tools/pinned_addresses.py write /tmp/out/stacks /tmp/out-bootstrap/stacks
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Iterable, Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from constructs.shared.protection import ADDRESS_NAME  # noqa: E402
from policies.protected import protection  # noqa: E402

LIST_PATH = ROOT / "synth_tests" / "pinned_addresses.json"
# cdktf names a resource without a pinned id `<construct path>_<8 hex digits of its hash>`:
# such an address moves whenever a construct on its path is renamed.
CONSTRUCT_PATH_HASH = re.compile(r"_[0-9A-F]{8}$")


def protected_addresses(stack: Mapping) -> list[str]:
    """`<type>.<name>` of every protected resource in a synthesized stack, sorted."""
    return sorted(f"{type_}.{name}" for type_, group in stack.get("resource", {}).items()
                  for name, body in group.items() if protection(type_, body))


def pinned_problems(stack_name: str, stack: Mapping, pinned: Iterable[str]) -> list[str]:
    """What is wrong with a synthesized stack against its pinned addresses, one line per problem."""
    pinned, present = set(pinned), set(protected_addresses(stack))
    listed = LIST_PATH.relative_to(ROOT)
    problems = []
    for address in sorted(pinned - present):
        type_ = address.split(".", 1)[0]
        newcomers = sorted(present - pinned & {a for a in present if a.startswith(type_ + ".")})
        hint = f" (new here: {', '.join(newcomers)})" if newcomers else ""
        problems.append(
            f"{stack_name}: {address} is pinned but the stack no longer has it{hint}: Terraform would destroy it. "
            f"If the change is intended, call move_from_id(\"{address}\") on the new resource (a `moved` block, so "
            f"Terraform moves the state instead), then update {listed} (tools/pinned_addresses.py write)")
    for address in sorted(present - pinned):
        problems.append(f"{stack_name}: protected {address} is not in {listed}: after review, add it "
                        "(tools/pinned_addresses.py write)")
    for address in sorted(present):
        name = address.split(".", 1)[1]
        if CONSTRUCT_PATH_HASH.search(name) or not ADDRESS_NAME.match(name):
            problems.append(f"{stack_name}: protected {address} has no readable pinned name: its address follows "
                            "its construct path; give it one with constructs/shared/protection.py keep()")
    return problems


def load_list(path: Path = LIST_PATH) -> dict[str, list[str]]:
    """Stack name -> its pinned addresses."""
    return json.loads(path.read_text(encoding="utf-8"))["stacks"]


def write_list(stacks_dirs: Iterable[Path], path: Path = LIST_PATH) -> dict[str, list[str]]:
    stacks = {folder.name: protected_addresses(json.loads((folder / "cdk.tf.json").read_text()))
              for stacks_dir in stacks_dirs for folder in sorted(Path(stacks_dir).iterdir())
              if (folder / "cdk.tf.json").is_file()}
    document = {
        "about": "Every protected resource's Terraform address, per stack. Changing or removing one destroys the "
                 "resource unless the new resource carries move_from_id(\"<old address>\"); "
                 "see tools/pinned_addresses.py.",
        "stacks": dict(sorted(stacks.items())),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return stacks


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "write":
        print(__doc__, file=sys.stderr)
        return 2
    written = write_list(Path(d) for d in argv[1:])
    print(f"wrote {LIST_PATH.relative_to(ROOT)}: " + ", ".join(f"{k} ({len(v)})" for k, v in written.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
