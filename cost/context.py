"""What a pricing rule receives and returns: the stack, load profile and prices it reads, and the
cost it gives (or the reason it cannot)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cost.prices import PriceBook
from environments.config import LoadProfileConfig


class Unpriced(Exception):
    """The estimate cannot price this resource; str() says why."""


@dataclass(frozen=True)
class Cost:
    idle: float
    load: float
    basis: str
    notes: tuple[str, ...] = ()


@dataclass
class Context:
    stack: dict
    profile: LoadProfileConfig
    book: PriceBook
    used: list[str] = field(default_factory=list)

    def usd(self, key: str) -> float:
        """A unit price, remembered so each line can say which prices it rests on."""
        self.used.append(key)
        return self.book[key].usd

    @property
    def hours(self) -> float:
        return self.book.hours_per_month

    @property
    def seconds(self) -> float:
        return self.book.hours_per_month * 3600

    def usd_in(self, key: str, region: str) -> float:
        """A unit price in `region`: `key` where the book's prices are (europe-west1), else
        `key_<region>` (key_europe_west4); Unpriced when the file has none there."""
        regional = key if region == self.book[key].region else f"{key}_{region.replace('-', '_')}"
        if regional not in self.book.prices:
            raise Unpriced(f"pricing/prices.yaml has no {key} price for {region} (add {regional})")
        return self.usd(regional)
