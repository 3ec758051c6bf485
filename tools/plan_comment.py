"""The pull-request comment for one stack's plan, always within GitHub's limit.

    tools/plan_comment.py --stack staging --diff diff.txt --diff-status 0 --plan plan.txt \
        --plan-status 2 --run-url URL > comment.md

The full comment carries `make diff` and `terraform plan` (errors included: the workflow captures
stderr too). When that is longer than a comment may be (65,536 characters), a short one says
what happened and links the run, whose summary and artifact hold the whole text.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

LIMIT = 65_536
MARKER = "<!-- terraform-plan:{stack} -->"
SUMMARY = re.compile(r"^(Plan: .*|No changes\..*|Error: .*)$", re.M)
DIFF_VERDICT = {0: "no protected resource is deleted or replaced", 2: "**make diff failed**",
                3: "**:warning: a protected resource would be deleted or replaced**"}


def _fence(text: str) -> str:
    return "```\n" + text.replace("```", "`\u200b``").rstrip() + "\n```"


def _summary(plan: str, status: int | None) -> str:
    if status is None:
        return "no plan (an earlier step failed: see the run)"
    found = SUMMARY.findall(plan)
    errors = [line for line in found if line.startswith("Error: ")]
    if status == 1 or errors:
        return f"plan failed: {errors[0] if errors else 'see the run'}"
    return found[-1] if found else "no summary line: see the run"


def comment(stack: str, diff: str, diff_status: int | None, plan: str, plan_status: int | None, run_url: str) -> str:
    head = [MARKER.format(stack=stack),
            f"### `{stack}`: {_summary(plan, plan_status)}",
            f"make diff: {DIFF_VERDICT.get(diff_status, 'not run')}"]
    full = "\n".join([*head,
                      "<details><summary>make diff (synthesized JSON)</summary>", "", _fence(diff), "</details>",
                      "<details><summary>terraform plan (-refresh=false)</summary>", "", _fence(plan), "</details>",
                      "", f"[the run]({run_url})"])
    if len(full) <= LIMIT:
        return full
    return "\n".join([*head, "", f"The full diff and plan ({len(full):,} characters) do not fit in a comment: "
                      f"read them in [the run's summary and its `plan-{stack}` artifact]({run_url})."])


def _status(text: str) -> int | None:
    return int(text) if text.strip().lstrip("-").isdigit() else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--diff", type=Path, required=True)
    parser.add_argument("--diff-status", default="")
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--plan-status", default="")
    parser.add_argument("--run-url", required=True)
    args = parser.parse_args(argv)
    read = lambda path: path.read_text(errors="replace") if path.exists() else ""  # noqa: E731
    sys.stdout.write(comment(args.stack, read(args.diff), _status(args.diff_status), read(args.plan),
                             _status(args.plan_status), args.run_url) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
