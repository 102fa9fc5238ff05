"""A readable summary of reps' measured capability (`leadflow reps profile`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Sequence

from models.reps import INDUSTRIES, PRODUCTS
from models.routing import RepOutcome
from streams.capability import RepStats


def capability_rows(stats: RepStats, outcomes: Sequence[RepOutcome], now: datetime) -> list[dict[str, Any]]:
    """Per rep with deals: deal count, and the industry and product where the rep is measured best."""
    deals = Counter(outcome.rep_id for outcome in outcomes)
    rep_ids = sorted(deals)
    capability = stats.capability(rep_ids, now)
    rows = []
    for row, rep_id in enumerate(rep_ids):
        industry = int(capability.win_rate[row].argmax())
        product = int(capability.close_rate[row].argmax())
        rows.append({
            "rep_id": rep_id,
            "deals": deals[rep_id],
            "best_industry": INDUSTRIES[industry],
            "best_industry_win_rate": round(float(capability.win_rate[row, industry]), 4),
            "best_product": PRODUCTS[product],
            "best_product_close_rate": round(float(capability.close_rate[row, product]), 4),
        })
    return sorted(rows, key=lambda r: -r["best_industry_win_rate"])
