"""Estimated monthly cost of each environment from its synthesized stack, offline.

  tools/cost.py [estimate] [ENV ...] [--json]     the table (or JSON) of cdktf.out/stacks/<env>/cdk.tf.json
  tools/cost.py diff BEFORE.json AFTER.json [--env ENV] [--json]
                                                  what a change does to one environment's cost
  tools/cost.py page [--check]                    write (or check) the estimate block in docs/cost.md

The load profile and the budgets come from environments/<env>.yaml, the prices and the exchange
rate from pricing/prices.yaml. `estimate` warns (on stderr) when an environment or a tier is
estimated past its budget under load. `diff` prices both documents with the same (current) load
profile, so the difference is the change of infrastructure alone; either document may be a
snapshot without `//` metadata.
Exit status: 0, 1 when `page --check` finds docs/cost.md stale, 2 on bad input, 4 when `diff`
finds the change takes the environment or a tier past its budget.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from any folder: the project's packages

from cost.budget import EXIT_BUDGET, budget_delta, budget_lines, budget_text, warnings  # noqa: E402
from cost.estimate import Estimate, diff, estimate  # noqa: E402
from cost.prices import PriceBook, PriceFileError, load_prices  # noqa: E402
from cost.report import (BLOCK_BEGIN, BLOCK_END, diff_document, document, envelope,  # noqa: E402
                         estimate_block, table)
from cost.stack import environment_of  # noqa: E402
from tools import generated_blocks  # noqa: E402
from environments.config import EnvironmentConfig  # noqa: E402
from environments.loader import ENVIRONMENTS_DIR, ConfigError, environment_files, load_environment  # noqa: E402

PAGE = ROOT / "docs" / "cost.md"
COMMANDS = ("estimate", "diff", "page")


class BadInput(Exception):
    pass


def config_of(env: str) -> EnvironmentConfig:
    try:
        return load_environment(ENVIRONMENTS_DIR / f"{env}.yaml")
    except ConfigError as error:
        raise BadInput(str(error)) from None


def read_stack(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file (run `make synth` first)") from None
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}: not JSON ({error})") from None


def stack_path(outdir: Path, env: str) -> Path:
    return outdir / "stacks" / env / "cdk.tf.json"


def estimate_env(outdir: Path, env: str, book: PriceBook) -> tuple[Estimate, EnvironmentConfig]:
    config = config_of(env)
    return estimate(read_stack(stack_path(outdir, env)), env, config.load_profile, book), config


def all_envs() -> list[str]:
    return [path.stem for path in environment_files()]


def run_estimate(args: argparse.Namespace, book: PriceBook) -> int:
    results = [estimate_env(args.outdir, env, book) for env in args.environments or all_envs()]
    budgets = [budget_lines(e, c.cost, book) for e, c in results]
    if args.json:
        print(json.dumps(envelope(book, "environments", [
            document(e, c.load_profile, book, lines, c.cost.run_hours) for (e, c), lines in zip(results, budgets)]),
            indent=2))
    else:
        print("\n\n".join(table(e, c.load_profile, book, c.cost.run_hours) + "\n" + budget_text(lines, book)
                           for (e, c), lines in zip(results, budgets)))
    for (result, _), lines in zip(results, budgets):
        for warning in warnings(result.env, lines):
            print(warning, file=sys.stderr)
    return 0


def run_diff(args: argparse.Namespace, book: PriceBook) -> int:
    before, after = read_stack(args.before), read_stack(args.after)
    env = args.env or environment_of(after, args.after) or environment_of(before, args.before)
    if env is None:
        raise BadInput("cannot tell the environment of these documents: pass --env")
    config = config_of(env)
    delta = budget_delta(env, before, after, config.load_profile, book, config.cost)
    if args.json:
        change_set = diff(estimate(before, env, config.load_profile, book), estimate(after, env, config.load_profile, book))
        print(json.dumps(envelope(book, "diffs", [{**diff_document(change_set),
                                                   "past_budget_by_this_change": list(delta.newly_exceeded)}]), indent=2))
    else:
        print(delta.text)
    return EXIT_BUDGET if delta.newly_exceeded else 0


def run_page(args: argparse.Namespace, book: PriceBook) -> int:
    results = [estimate_env(args.outdir, env, book) for env in all_envs()]
    block = estimate_block([(e, budget_lines(e, c.cost, book)) for e, c in results], book)
    return generated_blocks.write_or_check(PAGE, block, BLOCK_BEGIN, BLOCK_END, check=args.check, what="cost estimate",
                                           target="cost-readme")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("estimate", help="the estimate of each environment")
    one.add_argument("environments", nargs="*", metavar="ENV", help="default: every environments/*.yaml")
    one.add_argument("--json", action="store_true", help="JSON for machines instead of the table")
    two = commands.add_parser("diff", help="the cost difference between two stack documents of one environment")
    two.add_argument("before", type=Path)
    two.add_argument("after", type=Path)
    two.add_argument("--env", help="environment whose load profile prices both (default: from the documents)")
    two.add_argument("--json", action="store_true")
    three = commands.add_parser("page", help="write the estimate block of docs/cost.md")
    three.add_argument("--check", action="store_true", help="only check it; exit 1 when stale")
    for sub in (one, three):
        sub.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out", help="synth output (default: %(default)s)")
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["estimate", *argv]
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        book = load_prices()
        return {"estimate": run_estimate, "diff": run_diff, "page": run_page}[args.command](args, book)
    except (BadInput, PriceFileError) as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
