"""The price file (pricing/prices.yaml): unit prices with their source and confidence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

PRICES_PATH = Path(__file__).resolve().parent.parent / "pricing" / "prices.yaml"
CONFIDENCE = ("confirmed", "secondary", "unverified")
FIELDS = ("product", "sku", "region", "unit", "usd", "read_on", "source", "confidence")


@dataclass(frozen=True)
class Price:
    key: str
    product: str
    sku: str
    region: str
    unit: str
    usd: float
    read_on: str
    source: str
    confidence: str
    note: str = ""


@dataclass(frozen=True)
class FreeTier:
    key: str
    product: str
    allowance: str
    applied: bool
    why: str


@dataclass(frozen=True)
class PriceBook:
    currency: str
    hours_per_month: float
    prices: Mapping[str, Price]
    free_tiers: Mapping[str, FreeTier]
    logging_free_gib: float

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]


def load_prices(path: Path = PRICES_PATH) -> PriceBook:
    """Read and check the price file: every price carries every field, a known confidence."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prices = {}
    for key, entry in data["prices"].items():
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise ValueError(f"{path}: prices.{key} lacks {', '.join(missing)}")
        if entry["confidence"] not in CONFIDENCE:
            raise ValueError(f"{path}: prices.{key}.confidence must be one of {', '.join(CONFIDENCE)}")
        prices[key] = Price(key=key, **{**entry, "usd": float(entry["usd"]), "read_on": str(entry["read_on"])})
    free = {
        key: FreeTier(key=key, product=entry["product"], allowance=entry["allowance"], applied=entry["applied"],
                      why=entry["why"])
        for key, entry in data["free_tiers"].items()
    }
    logging = data["free_tiers"]["cloud_logging"]
    return PriceBook(
        currency=data["currency"],
        hours_per_month=float(data["hours_per_month"]),
        prices=prices,
        free_tiers=free,
        # The one free tier granted per project, so per environment; 0 when the file stops applying it.
        logging_free_gib=float(logging["gib_per_project_month"]) if logging["applied"] else 0.0,
    )
