"""Routing quality against round robin in a synthetic world with a hidden truth.

Each rep has a hidden win probability per industry and product. The matcher never sees it: it
sees the reps' declared profiles (the truth seen through self-assessment noise) and a deal history
sampled from the truth, fed through RepStats. For each lead the known best rep is the eligible
rep with the highest true win probability; precision@1 is the share of leads routed to it.

`python -m streams.bench_quality [leads] [reps]` prints the figures as JSON.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from datetime import timedelta

import numpy as np

from models.reps import INDUSTRIES, PRODUCTS, Rep
from models.routing import RepOutcome
from streams.bench_routing import NOW, synthetic_intents, synthetic_reps
from streams.capability import RepStats
from streams.matching import Matcher, load_content_packs, load_packs

DEALS_PER_REP = 60


class World:
    """Hidden skill: logit of winning = talent + industry skill + product skill."""

    def __init__(self, reps: int, rng: np.random.Generator) -> None:
        self.talent = rng.normal(0.0, 0.4, size=(reps, 1))
        self.industry_skill = rng.normal(0.0, 0.9, size=(reps, len(INDUSTRIES)))
        self.product_skill = rng.normal(0.0, 0.6, size=(reps, len(PRODUCTS)))

    def win_probability(self, industry: int, product: int) -> np.ndarray:
        logit = -0.8 + self.talent[:, 0] + self.industry_skill[:, industry] + self.product_skill[:, product]
        return 1.0 / (1.0 + np.exp(-logit))

    def declared(self, reps: list[Rep], rng: np.random.Generator) -> list[Rep]:
        """Profiles as reps would fill them in: their stronger industries and products, noisily rated."""
        def rated(skill: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
            seen = skill + rng.normal(0.0, 0.8, size=skill.shape)
            return {name: round(float(1.0 / (1.0 + np.exp(-s))), 1) for name, s in zip(names, seen) if s > 0}

        return [rep.model_copy(update={"industries": rated(self.industry_skill[r], INDUSTRIES),
                                       "products": rated(self.product_skill[r], PRODUCTS)})
                for r, rep in enumerate(reps)]

    def history(self, reps: list[Rep], rng: np.random.Generator) -> list[RepOutcome]:
        """Past deals: reps mostly work the industries they declare; outcomes drawn from the truth."""
        outcomes = []
        for r, rep in enumerate(reps):
            focus = np.array([rep.industries.get(name, 0.0) + 0.1 for name in INDUSTRIES])
            for k in range(DEALS_PER_REP):
                industry = int(rng.choice(len(INDUSTRIES), p=focus / focus.sum()))
                product = int(rng.integers(len(PRODUCTS)))
                won = rng.random() < self.win_probability(industry, product)[r]
                outcomes.append(RepOutcome(
                    outcome_id=f"{rep.id}-{k}", lead_id=f"past-{rep.id}-{k}", rep_id=rep.id,
                    kind="won" if won else "lost", industry=INDUSTRIES[industry], product=PRODUCTS[product],
                    ts=NOW - timedelta(days=float(rng.uniform(0, 85)))))
        return outcomes


def run(leads: int = 5000, reps: int = 200, seed: int = 7) -> dict[str, float | None]:
    rng = np.random.default_rng(seed)
    world = World(reps, rng)
    team = world.declared(synthetic_reps(reps, rng), rng)
    matcher = Matcher(team, load_packs(), load_content_packs())
    stats = RepStats.from_history(world.history(team, rng))
    state = matcher.new_state(stats.capability([rep.id for rep in team], NOW))
    open_leads: deque[int] = deque()
    ours = round_robin = counted = 0
    for n, intent in enumerate(synthetic_intents(leads, rng)):
        eligible = matcher.eligible(intent, NOW, state)
        if not eligible.any():
            continue
        truth = world.win_probability(INDUSTRIES.index(intent.industry), PRODUCTS.index(intent.product))
        best = int(np.where(eligible, truth, -np.inf).argmax())
        decision = matcher.decide(f"lead-{n}", intent, NOW, state)
        counted += 1
        ours += decision.rep_index == best
        round_robin += n % reps == best  # rotation over the whole roster, blind to skills and eligibility
        # Leads stay open for a while, so load and fairness shape later decisions as they would live.
        state.assign(decision.rep_index)
        open_leads.append(decision.rep_index)
        if len(open_leads) > matcher.capacity.sum() // 3:
            state.release(open_leads.popleft())
    precision_ours, precision_rr = ours / counted, round_robin / counted
    return {"leads": counted, "reps": reps, "precision_at_1_ours": round(precision_ours, 4),
            "precision_at_1_round_robin": round(precision_rr, 4),
            "ratio": round(precision_ours / precision_rr, 2) if precision_rr else None}


if __name__ == "__main__":
    print(json.dumps(run(*(int(arg) for arg in sys.argv[1:3]))))
