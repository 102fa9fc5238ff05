"""Skill matching: send a hot lead to the best eligible rep, and say why.

Pure (no Kafka, no Faust). Everything about the roster that does not change between leads is
precomputed once as numpy arrays aligned with the matcher's rep order, so a decision is a few
vector operations over all reps regardless of team size:

1. hard constraints, in order: available, language, territory, certifications the industry
   pack requires for the stage, working now, not already tried, under capacity;
2. a soft score = pack weights . components, each component in 0..1 per rep
   (see models.routing_pack.COMPONENTS);
3. the explanation: components where the winner beats the eligible average most, and for each
   runner-up the component where it trails the winner most (or the constraint it failed).

Not thread-safe: one scratch matrix is reused across decisions (the worker decides on one thread).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import numpy as np
from pydantic import ValidationError

from config.policy_files import PolicyError, load_policy
from models.reps import INDUSTRIES, LANGUAGES, PRODUCTS, REGIONS, SKILL_DIMENSIONS, STAGES, Rep, WorkingHours
from models.routing import ContentPack, Intent, RunnerUp
from models.routing_pack import COMPONENTS, ContentLibrary, IndustryPack, PackSet
from streams.capability import Capability

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
PACKS_DIR = CONFIG_DIR / "packs"
CONTENT_FILE = CONFIG_DIR / "content_packs.yaml"

SLOT_SECONDS = 15 * 60  # quarter hours, so half-hour time zones and 09:30 starts are exact
WEEK_SECONDS = 7 * 86_400
FIRST_MONDAY = 4 * 86_400  # 1970-01-05 00:00 UTC; the weeks of on-duty slots start on a Monday
WIN, CLOSE, STAGE, PRODUCT, INDUSTRY, LOAD, FAIRNESS = range(len(COMPONENTS))
RUNNERS_UP = 3

_DIM = {dimension: d for d, dimension in enumerate(SKILL_DIMENSIONS)}
_INDUSTRY_COL = {name: i for i, name in enumerate(INDUSTRIES)}
_PRODUCT_COL = {name: i for i, name in enumerate(PRODUCTS)}
_INDUSTRY_ROW = {name: _DIM["industries", name] for name in INDUSTRIES}
_PRODUCT_ROW = {name: _DIM["products", name] for name in PRODUCTS}
_STAGE_ROW = {name: _DIM["stages", name] for name in STAGES}


def load_packs(directory: Path = PACKS_DIR) -> PackSet:
    """Every *.yaml of `directory` is one industry pack; errors carry file, line and column."""
    packs = [load_policy(path, IndustryPack) for path in sorted(directory.glob("*.yaml"))]
    try:
        return PackSet(packs=tuple(packs))
    except ValidationError as exc:
        raise PolicyError(str(directory), 1, 1, exc.errors()[0]["msg"]) from exc


def load_content_packs(path: Path = CONTENT_FILE) -> ContentLibrary:
    return load_policy(path, ContentLibrary)


@dataclass(frozen=True, slots=True)
class Decision:
    lead_id: str
    rep: Rep | None  # None: nobody qualifies, send the lead to the pack's overflow queue
    rep_index: int  # position in the matcher's order (for TeamState.assign); -1 on overflow
    score: float
    reasons: list[str]
    runners_up: list[RunnerUp]
    content_pack: ContentPack | None
    pack: str
    overflow_reason: str | None = None


@dataclass
class TeamState:
    """What changes as leads flow: open leads, recent share of assignments, measured capability.
    Arrays are aligned with the matcher's rep order; change them through assign / release /
    penalise, which keep the load and fairness components current (read by every decision)."""

    open_leads: np.ndarray  # int64 [rep]
    fairness_credit: np.ndarray  # float [rep]: share of recent assignments, sums to at most 1
    capability: Capability
    capacity: np.ndarray  # int64 [rep]
    memory: float  # assignments over which a rep's share fades (decay 1 - 1/memory per assignment)
    index: Mapping[str, int]  # rep id -> position, for callers that hold ids (outcomes, SLA timers)
    fit: np.ndarray = field(init=False)  # [load, fairness] component rows, each 0..1

    def __post_init__(self) -> None:
        self.fit = np.empty((2, len(self.capacity)))
        np.subtract(1.0, self.open_leads / self.capacity, out=self.fit[0])
        self._refresh_fairness()

    def assign(self, rep_index: int) -> None:
        self.open_leads[rep_index] += 1
        self.fairness_credit *= 1.0 - 1.0 / self.memory
        self.fairness_credit[rep_index] += 1.0 / self.memory
        self._refresh(rep_index)

    def release(self, rep_index: int) -> None:
        """The lead was closed or handed back; capacity frees up."""
        if self.open_leads[rep_index] > 0:
            self.open_leads[rep_index] -= 1
        self._refresh(rep_index)

    def penalise(self, rep_index: int) -> None:
        """An SLA breach weighs on fairness like one more recent assignment."""
        self.fairness_credit[rep_index] += 1.0 / self.memory
        self._refresh_fairness()

    def carry_over(self, previous: TeamState) -> None:
        """Take open leads and fairness of the reps that `previous` (an older roster) also had."""
        for rep_id, i in self.index.items():
            j = previous.index.get(rep_id)
            if j is not None:
                self.open_leads[i] = previous.open_leads[j]
                self.fairness_credit[i] = previous.fairness_credit[j]
        np.subtract(1.0, self.open_leads / self.capacity, out=self.fit[0])
        self._refresh_fairness()

    # By id: a rep no longer on the roster (outcome of an old lead) is ignored.
    def release_id(self, rep_id: str) -> None:
        if rep_id in self.index:
            self.release(self.index[rep_id])

    def penalise_id(self, rep_id: str) -> None:
        if rep_id in self.index:
            self.penalise(self.index[rep_id])

    def _refresh(self, rep_index: int) -> None:
        self.fit[0, rep_index] = 1.0 - self.open_leads[rep_index] / self.capacity[rep_index]
        self._refresh_fairness()

    def _refresh_fairness(self) -> None:
        # A fair share of recent assignments is 1/n: 1 with no recent leads, 0.5 at a fair share, 0 at twice it.
        fairness = self.fit[1]
        np.multiply(self.fairness_credit, -0.5 * len(fairness), out=fairness)
        fairness += 1.0
        np.maximum(fairness, 0.0, out=fairness)


class _Plan(NamedTuple):
    pack: IndustryPack
    weights: np.ndarray
    weight_list: list[float]  # the same, for the explanation's scalar arithmetic
    certifications: dict[str, tuple[tuple[str, ...], np.ndarray]]  # stage -> (required, holders)


class _Case(NamedTuple):
    """One decision's inputs, the intent resolved to array columns (None: not given or unknown)."""

    intent: Intent
    industry: int | None
    product: int | None
    plan: _Plan
    state: TeamState
    now: datetime


class Matcher:
    def __init__(self, reps: Sequence[Rep], packs: PackSet, content: ContentLibrary) -> None:
        self.reps = tuple(reps)
        self._index = {rep.id: i for i, rep in enumerate(self.reps)}
        n = len(self.reps)
        # [dimension, rep]: one dimension's row is contiguous, as decide() reads rows.
        self.proficiency = np.array(
            [[rep.skill(kind, name) for rep in self.reps] for kind, name in SKILL_DIMENSIONS],
            dtype=np.float64).reshape(len(SKILL_DIMENSIONS), n)
        self._ready = np.array([rep.active and rep.available for rep in self.reps], dtype=bool)
        self._nobody = np.zeros(n, dtype=bool)
        self._speaks = {lang: self.proficiency[_DIM["languages", lang]] > 0 for lang in LANGUAGES}
        anywhere = np.array([not rep.regions for rep in self.reps], dtype=bool)
        self._anywhere = anywhere
        self._covers = {region: anywhere | np.array([region in rep.regions for rep in self.reps], dtype=bool)
                        for region in REGIONS}
        self.capacity = np.array([rep.capacity for rep in self.reps], dtype=np.int64)
        self._schedules: dict[WorkingHours, list[int]] = {}
        for i, rep in enumerate(self.reps):
            if rep.hours is not None:
                self._schedules.setdefault(rep.hours, []).append(i)
        # Who works in each quarter hour of the UTC week `_week` that a decision has asked about:
        # built per slot when first needed, as leads are routed in a few of the week's 672 slots.
        self._week: int | None = None
        self._on_duty: dict[int, np.ndarray] = {}
        self._plans = {pack.name: self._plan(pack) for pack in packs.packs}
        self._plan_for = {industry: self._plans[packs.for_industry(industry).name] for industry in INDUSTRIES}
        self._default_plan = self._plans[packs.for_industry(None).name]
        self._content = content.lookup()
        self._components = np.empty((len(COMPONENTS), n))  # scratch, refilled by every decision

    def _plan(self, pack: IndustryPack) -> _Plan:
        weights = np.array([getattr(pack.weights, name) for name in COMPONENTS])
        certifications = {}
        for stage in STAGES:
            required = pack.certifications_for(stage)
            holders = np.ones(len(self.reps), dtype=bool)
            for cert in required:
                holders &= self.proficiency[_DIM["certifications", cert]] > 0
            certifications[stage] = (required, holders)
        return _Plan(pack, weights, weights.tolist(), certifications)

    def index(self, rep_id: str) -> int:
        return self._index[rep_id]

    def pack(self, name: str) -> IndustryPack:
        return self._plans[name].pack

    def new_state(self, capability: Capability | None = None, memory: float | None = None) -> TeamState:
        n = len(self.reps)
        return TeamState(np.zeros(n, dtype=np.int64), np.zeros(n), capability or Capability.neutral(n),
                         self.capacity, memory or max(4.0 * n, 20.0), self._index)

    def eligible(self, intent: Intent, now: datetime, state: TeamState, exclude: Collection[str] = ()) -> np.ndarray:
        """Bool [rep]: who may take this lead now."""
        return _all_of(self._constraints(intent, self._plan_of(intent), now, state, exclude))

    def decide(self, lead_id: str, intent: Intent, now: datetime, state: TeamState,
               exclude: Collection[str] = ()) -> Decision:
        plan = self._plan_of(intent)
        case = _Case(intent, _INDUSTRY_COL.get(intent.industry), _PRODUCT_COL.get(intent.product), plan, state, now)
        constraints = self._constraints(intent, plan, now, state, exclude)
        eligible = _all_of(constraints)
        components = self._fill_components(case)
        score = plan.weights @ components
        count = int(np.count_nonzero(eligible))
        content = self._content.get((intent.industry, intent.stage)) or self._content.get(("default", intent.stage))
        if count == 0:
            return Decision(lead_id, None, -1, 0.0, [],
                            self._failed_runners_up(score, eligible, constraints, case, RUNNERS_UP),
                            content, plan.pack.name, self._overflow_reason(constraints, case))
        ranked = np.where(eligible, score, -np.inf)
        top = []
        for _ in range(min(count, RUNNERS_UP + 1)):  # a few argmax beat a partition at this k; ties -> roster order
            top.append(int(ranked.argmax()))
            ranked[top[-1]] = -np.inf
        winner = top[0]
        # The explanation works on plain floats: a handful of values, where numpy calls cost more than they save.
        values = components.take(top, axis=1).T.tolist()  # [winner + runners-up][component]
        runners_up = self._runners_up(top, values, score, case)
        if len(runners_up) < RUNNERS_UP:
            runners_up += self._failed_runners_up(score, eligible, constraints, case, RUNNERS_UP - len(runners_up))
        reasons = self._reasons(winner, values, case)
        return Decision(lead_id, self.reps[winner], winner, float(score[winner]), reasons, runners_up,
                        content, plan.pack.name)

    # -- constraints -------------------------------------------------------------------------

    def _plan_of(self, intent: Intent) -> _Plan:
        return self._plan_for.get(intent.industry, self._default_plan)

    def _constraints(self, intent: Intent, plan: _Plan, now: datetime, state: TeamState,
                     exclude: Collection[str]) -> list[tuple[str, np.ndarray]]:
        """(name, allowed [rep]) in the order they are applied and reported."""
        constraints = [("available", self._ready)]
        if intent.language is not None:
            constraints.append(("language", self._speaks.get(intent.language, self._nobody)))
        if intent.region is not None and plan.pack.enforce_territory:
            constraints.append(("territory", self._covers.get(intent.region, self._anywhere)))
        required, holders = plan.certifications[intent.stage]
        if required:
            constraints.append(("certification", holders))
        constraints.append(("hours", self._on_duty_at(now)))
        if exclude:
            untried = np.ones(len(self.reps), dtype=bool)
            untried[[self._index[rep_id] for rep_id in exclude if rep_id in self._index]] = False
            constraints.append(("tried", untried))
        constraints.append(("capacity", state.open_leads < self.capacity))
        return constraints

    def _on_duty_at(self, now: datetime) -> np.ndarray:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        weeks, second = divmod(now.timestamp() - FIRST_MONDAY, WEEK_SECONDS)
        week, slot = int(weeks), int(second // SLOT_SECONDS)
        if week != self._week:
            self._week, self._on_duty = week, {}
        on_duty = self._on_duty.get(slot)
        if on_duty is None:
            start = FIRST_MONDAY + week * WEEK_SECONDS + slot * SLOT_SECONDS
            on_duty = self._on_duty[slot] = self._working(datetime.fromtimestamp(start, timezone.utc))
        return on_duty

    def _working(self, moment: datetime) -> np.ndarray:
        """Bool [rep]: who works at `moment`; asked per moment, so DST shifts are exact."""
        on_duty = np.ones(len(self.reps), dtype=bool)
        for hours, members in self._schedules.items():
            on_duty[members] = hours.covers(moment)
        return on_duty

    def _overflow_reason(self, constraints: list[tuple[str, np.ndarray]], case: _Case) -> str:
        """Name the constraint that eliminated the last candidates."""
        remaining = np.ones(len(self.reps), dtype=bool)
        for name, allowed in constraints:
            left = remaining & allowed
            if not left.any():
                return self._eliminated(name, int(np.count_nonzero(remaining)), case)
            remaining = left
        raise AssertionError("overflow without an eliminating constraint")

    def _eliminated(self, name: str, before: int, case: _Case) -> str:
        intent, plan = case.intent, case.plan
        if name == "available":
            return f"no rep available ({len(self.reps)} on the roster)" if self.reps else "the roster is empty"
        if name == "language":
            return f"no rep speaks {intent.language} (of {before} available)"
        if name == "territory":
            return f"no rep covers region {intent.region} (of {before} remaining)"
        if name == "certification":
            required = ", ".join(plan.certifications[intent.stage][0])
            return f"no rep holds {required}, required by the {plan.pack.name} pack at {intent.stage} (of {before})"
        if name == "hours":
            return f"none of {before} qualified reps is working at {case.now.astimezone(timezone.utc):%a %H:%M} UTC"
        if name == "tried":
            return f"all {before} qualified reps already tried"
        return f"all {before} eligible reps at capacity"

    def _failed_runners_up(self, score: np.ndarray, eligible: np.ndarray,
                           constraints: list[tuple[str, np.ndarray]], case: _Case, wanted: int) -> list[RunnerUp]:
        """Best-scoring reps that failed a hard constraint, with the constraints they failed."""
        ranked = np.where(eligible, -np.inf, score)
        candidates = []
        for _ in range(min(wanted, len(self.reps) - int(np.count_nonzero(eligible)))):
            candidates.append(int(ranked.argmax()))
            ranked[candidates[-1]] = -np.inf
        return [RunnerUp(rep_id=self.reps[i].id, rep_name=self.reps[i].name, score=float(score[i]),
                         lost_because=[self._failure(name, i, case)
                                       for name, allowed in constraints if not allowed[i]])
                for i in candidates]

    def _failure(self, name: str, i: int, case: _Case) -> str:
        rep, intent = self.reps[i], case.intent
        if name == "available":
            return "inactive" if not rep.active else "unavailable"
        if name == "language":
            return f"does not speak {intent.language}"
        if name == "territory":
            return f"territory {'/'.join(rep.regions)}, lead in {intent.region}"
        if name == "certification":
            missing = [c for c in case.plan.certifications[intent.stage][0] if not rep.certifications.get(c)]
            return f"lacks {', '.join(missing)}"
        if name == "hours":
            return f"off duty ({rep.hours.hours} {rep.hours.tz})" if rep.hours else "off duty"
        if name == "tried":
            return "already tried for this lead"
        return f"at capacity {case.state.open_leads[i]}/{rep.capacity}"

    # -- score and explanation -------------------------------------------------------------

    def _fill_components(self, case: _Case) -> np.ndarray:
        k, prof, state, intent = self._components, self.proficiency, case.state, case.intent
        if case.industry is None:
            k[WIN] = k[INDUSTRY] = 0.0
        else:
            k[WIN] = state.capability.win_rate[:, case.industry]
            k[INDUSTRY] = prof[_INDUSTRY_ROW[intent.industry]]
        if case.product is None:
            k[CLOSE] = k[PRODUCT] = 0.0
        else:
            k[CLOSE] = state.capability.close_rate[:, case.product]
            k[PRODUCT] = prof[_PRODUCT_ROW[intent.product]]
        k[STAGE] = prof[_STAGE_ROW[intent.stage]]
        k[LOAD:] = state.fit
        return k

    def _reasons(self, winner: int, values: list[list[float]], case: _Case) -> list[str]:
        """The components where the winner beats its closest rivals (the runners-up) most;
        the only eligible rep is explained by what carried its score."""
        weights, best, rivals = case.plan.weight_list, values[0], values[1:]
        if rivals:
            edge = [w * (b - sum(column) / len(rivals)) for w, b, column in zip(weights, best, zip(*rivals))]
        else:
            edge = [w * b for w, b in zip(weights, best)]
        order = sorted(range(len(best)), key=edge.__getitem__, reverse=True)[:3]
        reasons = [self._describe(c, winner, best[c], case) for c in order if edge[c] > 0]
        return reasons if rivals else ["the only eligible rep", *reasons]

    def _runners_up(self, top: list[int], values: list[list[float]], score: np.ndarray, case: _Case) -> list[RunnerUp]:
        """Each runner-up with the component where it trails the winner most (weighted)."""
        weights, winner, best = case.plan.weight_list, top[0], values[0]
        runners_up = []
        for i, theirs in zip(top[1:], values[1:]):
            gaps = [w * (b - t) for w, b, t in zip(weights, best, theirs)]
            widest = max(gaps)
            c = gaps.index(widest)
            lost = (f"{self._describe(c, i, theirs[c], case)} vs {self._value(c, winner, best[c], case)}"
                    if widest > 0 else "tied with the winner, who comes first in the roster")
            rep = self.reps[i]
            runners_up.append(RunnerUp(rep_id=rep.id, rep_name=rep.name, score=float(score[i]), lost_because=[lost]))
        return runners_up

    def _describe(self, c: int, i: int, value: float, case: _Case) -> str:
        """Component c of rep i in words with its number, e.g. "win rate automotive 42% (team 18%)"."""
        intent, shown, capability = case.intent, self._value(c, i, value, case), case.state.capability
        if c == WIN:
            return f"win rate {intent.industry} {shown} (team {float(capability.team_win_rate[case.industry]):.0%})"
        if c == CLOSE:
            return f"close rate {intent.product} {shown} (team {float(capability.team_close_rate[case.product]):.0%})"
        if c == STAGE:
            return f"{intent.stage} skill {shown}"
        if c == PRODUCT:
            return f"{intent.product} skill {shown}"
        if c == INDUSTRY:
            return f"{intent.industry} skill {shown}"
        if c == LOAD:
            return f"load {shown}"
        return f"recent leads {shown} (fair share {1 / len(self.reps):.1%})"

    def _value(self, c: int, i: int, value: float, case: _Case) -> str:
        if c <= CLOSE:
            return f"{value:.0%}"
        if c == LOAD:
            return f"{int(case.state.open_leads[i])}/{self.reps[i].capacity}"
        if c == FAIRNESS:
            return f"{float(case.state.fairness_credit[i]):.1%}"
        return f"{value:.1f}"


def _all_of(constraints: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Reps allowed by every constraint (a fresh array; the constraint masks stay untouched)."""
    allowed = constraints[0][1] & constraints[1][1]  # there are always at least two: available, capacity
    for _, mask in constraints[2:]:
        allowed &= mask
    return allowed
