"""The reviewed ALLOW_REPLACE exception for `make diff`, read from a pull request.

A pull request grants one only with both the `allow-replace` label and a line
`ALLOW_REPLACE: <address>[,<address>...]` in its body: the label says a maintainer looked, the
line says at what. Deploys read the pull request that was merged into the pushed commit (the
same reviewed source). Prints the comma-separated addresses, or nothing; exit 2 with one line
naming the problem when the line is malformed or there is no label.

    tools/allow_replace.py --pull-request pr.json          # the event's pull_request object
    tools/allow_replace.py --merged-into SHA --pulls p.json  # gh api repos/O/R/commits/SHA/pulls
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

LABEL = "allow-replace"
LINE = re.compile(r"^ALLOW_REPLACE:(.*)$", re.M)
# A Terraform resource address: type.name, with an optional [index] or ["key"].
ADDRESS = re.compile(r'^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[(\d+|"[^"\s,]+")\])?$')


class NotReviewed(Exception):
    pass


def allowed(pull_request: dict) -> list[str]:
    """Addresses a pull request allows to be replaced or deleted (empty when it allows none)."""
    lines = LINE.findall((pull_request.get("body") or "").replace("\r\n", "\n"))
    if not lines:
        return []
    number = pull_request.get("number", "?")
    if len(lines) > 1:
        raise NotReviewed(f"pull request #{number}: {len(lines)} ALLOW_REPLACE lines; write one, comma-separated")
    addresses = [a.strip() for a in lines[0].split(",") if a.strip()]
    bad = [a for a in addresses if not ADDRESS.match(a)]
    if bad or not addresses:
        raise NotReviewed(f"pull request #{number}: ALLOW_REPLACE {', '.join(bad) or '(empty)'} is not a resource "
                          "address; write `ALLOW_REPLACE: google_x.name[,google_y.name]` as make diff prints them")
    labels = {label["name"] for label in pull_request.get("labels", [])}
    if LABEL not in labels:
        raise NotReviewed(f"pull request #{number}: ALLOW_REPLACE without the `{LABEL}` label; a maintainer "
                          "adds the label after reviewing the replacement")
    return addresses


def merged_pull_request(pulls: list[dict], sha: str) -> dict | None:
    """The pull request whose merge produced `sha`, if any (a direct push has none)."""
    return next((p for p in pulls if p.get("merged_at") and p.get("merge_commit_sha") == sha), None)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pull-request", type=Path, help="a pull request object (JSON)")
    parser.add_argument("--pulls", type=Path, help="the pull requests associated with a commit (JSON list)")
    parser.add_argument("--merged-into", metavar="SHA", help="with --pulls: the pushed commit")
    args = parser.parse_args(argv)
    try:
        if args.pull_request:
            pull_request = json.loads(args.pull_request.read_text())
        elif args.pulls and args.merged_into:
            pull_request = merged_pull_request(json.loads(args.pulls.read_text()), args.merged_into) or {}
        else:
            parser.error("give --pull-request, or --pulls with --merged-into")
        print(",".join(allowed(pull_request)))
    except NotReviewed as problem:
        print(f"allow_replace: {problem}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as problem:
        print(f"allow_replace: cannot read the pull request: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
