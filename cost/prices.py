"""The price file (pricing/prices.yaml): unit prices with their source and confidence."""

from __future__ import annotations

from dataclasses import dataclass, field
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
class ExchangeRate:
    currency: str
    usd_per_unit: float
    rate_date: str
    source: str
    confidence: str
    note: str = ""


class PriceFileError(ValueError):
    """The price file is wrong; str() names the file, the key and the fix."""


@dataclass(frozen=True)
class PriceBook:
    currency: str
    hours_per_month: float
    prices: Mapping[str, Price]
    free_tiers: Mapping[str, FreeTier]
    logging_free_gib: float
    uptime_free_executions: float = 0.0
    exchange_rates: Mapping[str, ExchangeRate] = field(default_factory=dict)
    path: Path = PRICES_PATH

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    def rate(self, currency: str) -> ExchangeRate:
        """The rate that turns USD into `currency` (a budget's currency)."""
        if currency == self.currency:
            return ExchangeRate(currency, 1.0, "", "", "confirmed")
        if currency not in self.exchange_rates:
            raise PriceFileError(f"{self.path}: exchange_rates.{currency} is missing: add the rate of 1 {currency} "
                                 f"in USD with its date and source, so budgets in {currency} can be compared")
        return self.exchange_rates[currency]


def load_prices(path: Path = PRICES_PATH) -> PriceBook:
    """Read and check the price file: every price carries every field, a known confidence."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PriceFileError(f"{path}: cannot be read as YAML ({error})") from None
    prices = {}
    for key, entry in data["prices"].items():
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            raise PriceFileError(f"{path}: prices.{key} lacks {', '.join(missing)}: add them (see the file's header)")
        if entry["confidence"] not in CONFIDENCE:
            raise PriceFileError(f"{path}: prices.{key}.confidence must be one of {', '.join(CONFIDENCE)}")
        prices[key] = Price(key=key, **{**entry, "usd": float(entry["usd"]), "read_on": str(entry["read_on"])})
    free = {
        key: FreeTier(key=key, product=entry["product"], allowance=entry["allowance"], applied=entry["applied"],
                      why=entry["why"])
        for key, entry in data["free_tiers"].items()
    }
    rates = {}
    for currency, entry in (data.get("exchange_rates") or {}).items():
        missing = [f for f in ("usd_per_unit", "rate_date", "source", "confidence") if f not in entry]
        if missing:
            raise PriceFileError(f"{path}: exchange_rates.{currency} lacks {', '.join(missing)}: a rate needs its "
                                 "value, date and source")
        if entry["confidence"] not in CONFIDENCE:
            raise PriceFileError(f"{path}: exchange_rates.{currency}.confidence must be one of {', '.join(CONFIDENCE)}")
        rates[currency] = ExchangeRate(currency, float(entry["usd_per_unit"]), str(entry["rate_date"]), entry["source"],
                                       entry["confidence"], entry.get("note", ""))
    logging, uptime = data["free_tiers"]["cloud_logging"], data["free_tiers"].get("uptime_checks")
    return PriceBook(
        currency=data["currency"],
        hours_per_month=float(data["hours_per_month"]),
        prices=prices,
        free_tiers=free,
        # The one free tier granted per project, so per environment; 0 when the file stops applying it.
        logging_free_gib=float(logging["gib_per_project_month"]) if logging["applied"] else 0.0,
        uptime_free_executions=float(uptime["executions_per_project_month"]) if uptime and uptime["applied"] else 0.0,
        exchange_rates=rates,
        path=path,
    )
