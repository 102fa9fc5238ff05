"""Measured capability of reps from their won / lost deals.

Per rep, outcomes are counted in day buckets: win rate per industry over the last 180 days and
close rate per product over the last 90 days. Rates are smoothed towards the team average
(a Beta prior worth `prior_strength` deals), so a rep with one lucky deal does not outrank a
rep with a long good record. Buckets older than the longer window are dropped, so memory stays
bounded however long the worker runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from models.reps import INDUSTRIES, PRODUCTS
from models.routing import RepOutcome

DAY_SECONDS = 86_400
_INDUSTRY = {name: i for i, name in enumerate(INDUSTRIES)}
_PRODUCT = {name: len(INDUSTRIES) + i for i, name in enumerate(PRODUCTS)}
_COLUMNS = len(INDUSTRIES) + len(PRODUCTS)  # a bucket counts industries, then products
_WON, _DECIDED = 0, 1


@dataclass(frozen=True)
class Capability:
    """Smoothed rates aligned with a given rep order; Fortran order so one industry's or one
    product's column (what the matcher reads per lead) is contiguous."""

    win_rate: np.ndarray  # [rep, industry]
    close_rate: np.ndarray  # [rep, product]
    team_win_rate: np.ndarray  # [industry], the prior mean
    team_close_rate: np.ndarray  # [product]

    @classmethod
    def neutral(cls, reps: int) -> Capability:
        """No history yet: everyone at an uninformed 50%."""
        return cls._smoothed(np.zeros((2, reps, _COLUMNS)), prior_strength=1.0)

    @classmethod
    def _smoothed(cls, industry_and_product: np.ndarray, prior_strength: float) -> Capability:
        """`industry_and_product` is [won|decided, rep, column] counted over each column's window."""
        won, decided = industry_and_product
        team = (won.sum(axis=0) + 1.0) / (decided.sum(axis=0) + 2.0)  # Laplace: no data -> 50%
        rate = (won + prior_strength * team) / (decided + prior_strength)
        split = len(INDUSTRIES)
        return cls(np.asfortranarray(rate[:, :split]), np.asfortranarray(rate[:, split:]),
                   team[:split], team[split:])


class RepStats:
    def __init__(self, industry_days: int = 180, product_days: int = 90, prior_strength: float = 5.0) -> None:
        self.industry_days, self.product_days, self.prior_strength = industry_days, product_days, prior_strength
        self._buckets: dict[str, dict[int, np.ndarray]] = {}  # rep -> day number -> [won|decided, column]
        self._reps_by_day: dict[int, set[str]] = {}  # so expiry touches only the expired buckets
        self._latest_day = 0

    @classmethod
    def from_history(cls, outcomes: Iterable[RepOutcome], industry_days: int = 180, product_days: int = 90,
                     prior_strength: float = 5.0) -> RepStats:
        """Recompute from the deal history (e.g. loaded from ClickHouse)."""
        stats = cls(industry_days, product_days, prior_strength)
        for outcome in outcomes:
            stats.record(outcome)
        return stats

    def record(self, outcome: RepOutcome) -> None:
        """Count a won or lost deal; accepted outcomes and outcomes older than both windows are ignored."""
        if outcome.kind == "accepted":
            return
        columns = [c for c in (_INDUSTRY.get(outcome.industry or ""), _PRODUCT.get(outcome.product or ""))
                   if c is not None]
        day = int(outcome.ts.timestamp() // DAY_SECONDS)
        if not columns or day <= self._latest_day - self._horizon:
            return
        bucket = self._buckets.setdefault(outcome.rep_id, {}).get(day)
        if bucket is None:
            bucket = self._buckets[outcome.rep_id][day] = np.zeros((2, _COLUMNS), dtype=np.int64)
            self._reps_by_day.setdefault(day, set()).add(outcome.rep_id)
        bucket[_DECIDED, columns] += 1
        if outcome.kind == "won":
            bucket[_WON, columns] += 1
        if day > self._latest_day:
            self._latest_day = day
            self._drop_before(day - self._horizon + 1)

    def capability(self, rep_ids: Sequence[str], now: datetime) -> Capability:
        """Smoothed rates for `rep_ids` (in that order) as of `now`; the team prior is their average."""
        today = int(now.timestamp() // DAY_SECONDS)
        counts = np.zeros((2, len(rep_ids), _COLUMNS))
        split = len(INDUSTRIES)
        for row, rep_id in enumerate(rep_ids):
            buckets = self._buckets.get(rep_id)
            if not buckets:
                continue
            age = today - np.fromiter(buckets, dtype=np.int64, count=len(buckets))
            stacked = np.stack(list(buckets.values()))  # [bucket, won|decided, column]
            in_industry = (age >= 0) & (age < self.industry_days)
            in_product = (age >= 0) & (age < self.product_days)
            counts[:, row, :split] = stacked[in_industry, :, :split].sum(axis=0)
            counts[:, row, split:] = stacked[in_product, :, split:].sum(axis=0)
        return Capability._smoothed(counts, self.prior_strength)

    def buckets(self, rep_id: str) -> int:
        """Day buckets kept for a rep (memory stays bounded by the longest window)."""
        return len(self._buckets.get(rep_id, {}))

    @property
    def _horizon(self) -> int:
        return max(self.industry_days, self.product_days)

    def _drop_before(self, first_day: int) -> None:
        for day in [d for d in self._reps_by_day if d < first_day]:
            for rep_id in self._reps_by_day.pop(day):
                del self._buckets[rep_id][day]
