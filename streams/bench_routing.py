"""Latency of one routing decision (constraints, scoring, explanation) on a synthetic team.

`python -m streams.bench_routing [reps] [leads]` prints the figures as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from datetime import datetime, timedelta, timezone

import numpy as np

from models.reps import CERTIFICATIONS, INDUSTRIES, PRODUCTS, REGIONS, SKILL_DIMENSIONS, STAGES, Rep
from models.routing import Intent, RepOutcome
from streams.capability import RepStats
from streams.matching import Matcher, load_content_packs, load_packs

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Wednesday 11:00 in Shanghai
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Tokyo", "Europe/Berlin")


def synthetic_reps(count: int, rng: np.random.Generator) -> list[Rep]:
    """A mixed team: regional and national reps, several time zones, sparse skill profiles."""
    def levels(names: tuple[str, ...], share: float) -> dict[str, float]:
        return {name: round(float(rng.uniform(0.2, 1.0)), 2) for name in names if rng.random() < share}

    return [Rep(id=f"rep-{i:04d}", name=f"Rep {i}",
                regions=() if rng.random() < 0.2 else tuple(rng.choice(REGIONS, rng.integers(1, 3), replace=False)),
                capacity=int(rng.integers(5, 20)),
                hours={"hours": "00:00-24:00" if rng.random() < 0.1 else "08:00-20:00",
                       "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], "tz": str(rng.choice(ZONES))},
                industries=levels(INDUSTRIES, 0.35), products=levels(PRODUCTS, 0.35),
                certifications=levels(CERTIFICATIONS, 0.3),
                languages={"zh": 1.0, **levels(("en", "ja", "de"), 0.3)}, stages=levels(STAGES, 0.9))
            for i in range(count)]


def synthetic_intents(count: int, rng: np.random.Generator) -> list[Intent]:
    languages = rng.choice(["zh", "zh", "zh", "en", "ja"], size=count)
    return [Intent(score=float(rng.uniform(60, 100)), stage=str(rng.choice(STAGES)), intensity="high",
                   industry=str(rng.choice(INDUSTRIES)), product=str(rng.choice(PRODUCTS)),
                   language=str(languages[i]), region=str(rng.choice(REGIONS)), priority="p1")
            for i in range(count)]


def synthetic_history(reps: list[Rep], deals_per_rep: int, rng: np.random.Generator) -> list[RepOutcome]:
    return [RepOutcome(outcome_id=f"o-{rep.id}-{k}", lead_id=f"l-{k}", rep_id=rep.id,
                       kind="won" if rng.random() < 0.3 else "lost", industry=str(rng.choice(INDUSTRIES)),
                       product=str(rng.choice(PRODUCTS)), ts=NOW - timedelta(days=float(rng.uniform(0, 200))))
            for rep in reps for k in range(deals_per_rep)]


def run(reps: int = 1000, leads: int = 100_000, seed: int = 7) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    team = synthetic_reps(reps, rng)
    matcher = Matcher(team, load_packs(), load_content_packs())
    stats = RepStats.from_history(synthetic_history(team, 20, rng))
    state = matcher.new_state(stats.capability([rep.id for rep in team], NOW))
    intents = synthetic_intents(min(leads, 10_000), rng)
    assigned: deque[int] = deque()
    timings = np.empty(leads, dtype=np.int64)
    matcher.decide("warm-up", intents[0], NOW, state)  # builds this week's working-hours bitmap
    for n in range(leads):
        lead_id, intent = f"lead-{n}", intents[n % len(intents)]
        start = time.perf_counter_ns()
        decision = matcher.decide(lead_id, intent, NOW, state)
        timings[n] = time.perf_counter_ns() - start
        # Keep the team's load steady: assign, and close the oldest lead once half the capacity is out.
        if decision.rep is not None:
            state.assign(decision.rep_index)
            assigned.append(decision.rep_index)
            if len(assigned) > matcher.capacity.sum() // 2:
                state.release(assigned.popleft())
    p50, p99 = np.percentile(timings, [50, 99]) / 1000
    return {"reps": reps, "dimensions": len(SKILL_DIMENSIONS), "leads": leads,
            "p50_us": round(float(p50), 1), "p99_us": round(float(p99), 1),
            "decisions_per_s": round(1e9 / float(timings.mean()))}


if __name__ == "__main__":
    print(json.dumps(run(*(int(arg) for arg in sys.argv[1:3]))))
