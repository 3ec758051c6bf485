"""How many Cloud Run instances a request rate keeps billed: a queueing model.

Requests arrive at random (Poisson) at rate `rate` per second and each takes `seconds`, so the
number in flight at any moment is Poisson with mean `rate x seconds` (the M/G/infinity queue; the
result holds for any distribution of durations). Cloud Run gives a request to an instance with a
free slot, up to `concurrency` each, so `n` requests in flight keep ceil(n / concurrency) instances
busy, never more than `max_instances` (beyond it requests wait). Request-based billing charges an
instance while it serves at least one request, each busy stretch rounded up to 100 ms; instance-based
billing charges every second an instance lives, and an idle instance lives on for up to 15 minutes
after its last request (cloud.google.com/run/docs/about-instance-autoscaling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ROUNDING_SECONDS = 0.05  # mean of rounding each busy stretch up to the next 100 ms
IDLE_KEEP_SECONDS = 900  # an idle instance may be kept this long before Cloud Run shuts it down
TAIL = 1e-12  # Poisson mass left out of the sums


@dataclass(frozen=True)
class Occupancy:
    """Time averages over the month, in instances (multiply by the month's seconds)."""

    in_flight: float  # mean requests in flight
    busy: float  # mean instances serving at least one request
    idle_min: float  # mean min instances serving nothing
    alive: float  # mean instances alive, for instance-based billing
    stretch_starts: float  # busy stretches begun per second
    saturated: float  # share of time every allowed instance is busy with a full queue behind it


def _poisson(mean: float):
    """(k, P(N = k)) over the range that holds all but TAIL of the mass, in log space so large means work."""
    if mean <= 0:
        yield 0, 1.0
        return
    spread = 12 * math.sqrt(mean) + 12
    for k in range(max(0, int(mean - spread)), int(mean + spread) + 1):
        p = math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
        if p > TAIL or k == 0:
            yield k, p


def occupancy(rate: float, seconds: float, concurrency: int, min_instances: int, max_instances: int) -> Occupancy:
    """Instance averages for `rate` requests a second of `seconds` each."""
    concurrency = max(1, concurrency)
    mean = rate * seconds
    busy = idle_min = alive = starts = saturated = 0.0
    for k, p in _poisson(mean):
        wanted = math.ceil(k / concurrency)
        serving = min(wanted, max_instances)
        busy += p * serving
        idle_min += p * max(0, min_instances - serving)
        alive += p * max(serving, min_instances)
        # An arrival opens a new busy stretch when every busy instance is full and another may start.
        if k % concurrency == 0 and wanted < max_instances:
            starts += p * rate
        if wanted > max_instances:
            saturated += p
    if min_instances == 0 and max_instances > 0:
        # With nothing in flight, an instance still lives if a request ended within the keep window.
        alive += math.exp(-mean) * (1 - math.exp(-rate * IDLE_KEEP_SECONDS))
    return Occupancy(mean, busy, idle_min, alive, starts, saturated)
