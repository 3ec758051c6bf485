"""Smoke tests after an apply: call each URL until it answers or the deadline passes.

    tools/smoke.py --deadline 300 frontend=https://... api=https://...

A URL answers when it returns a status below 500 other than 401/403/404/429: the service is up,
routed and lets this caller in (a 404 from a fresh service means no revision serves yet). Set
SMOKE_ID_TOKEN to send `Authorization: Bearer <token>` (an ID token whose audience is the API's
URL). Exit 0 when every URL answered, 1 naming each one that did not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request

NOT_READY = {401, 403, 404, 429}


def answers(url: str, token: str | None, timeout: float) -> tuple[bool, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return False, str(getattr(error, "reason", error))
    return status < 500 and status not in NOT_READY, f"HTTP {status}"


def wait_for(targets: dict[str, str], token: str | None, deadline: float, interval: float,
             probe=answers, clock=time.monotonic, sleep=time.sleep) -> dict[str, str]:
    """Probe every target until all answered or `deadline` seconds passed; the last failure of each that did not."""
    end = clock() + deadline
    pending = dict(targets)
    failures: dict[str, str] = {}
    while True:
        for name, url in list(pending.items()):
            ok, detail = probe(url, token, min(30.0, max(1.0, end - clock())))
            print(f"smoke: {name} {url}: {detail}", flush=True)
            if ok:
                del pending[name]
                failures.pop(name, None)
            else:
                failures[name] = detail
        if not pending or clock() + interval > end:
            return {name: failures[name] for name in pending}
        sleep(interval)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", metavar="NAME=URL")
    parser.add_argument("--deadline", type=float, default=300, help="seconds to keep trying (default: %(default)s)")
    parser.add_argument("--interval", type=float, default=10, help="seconds between rounds (default: %(default)s)")
    args = parser.parse_args(argv)
    targets = {}
    for target in args.targets:
        name, _, url = target.partition("=")
        if not url.startswith("https://"):
            print(f"smoke: {target!r}: write NAME=https://... (the stack's output)", file=sys.stderr)
            return 2
        targets[name] = url
    failed = wait_for(targets, os.environ.get("SMOKE_ID_TOKEN") or None, args.deadline, args.interval)
    for name, detail in failed.items():
        print(f"smoke: {name} did not answer within {args.deadline:.0f} s (last: {detail})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
