from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from models.reps import INDUSTRIES, PRODUCTS
from models.routing import RepOutcome
from streams.capability import Capability, RepStats

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
AUTO, HV = INDUSTRIES.index("automotive"), PRODUCTS.index("hv-connector")


def outcome(rep_id: str, kind: str, days_ago: float, n: int = 0, industry: str | None = "automotive",
            product: str | None = "hv-connector") -> RepOutcome:
    return RepOutcome(outcome_id=f"{rep_id}-{days_ago}-{n}", lead_id="l", rep_id=rep_id, kind=kind,
                      industry=industry, product=product, ts=NOW - timedelta(days=days_ago))


def test_an_outcome_older_than_the_window_no_longer_counts() -> None:
    stats = RepStats.from_history([outcome("a", "won", 200), outcome("b", "lost", 1)])
    rates = stats.capability(["a", "b"], NOW)
    assert rates.win_rate[0, AUTO] == pytest.approx(1 / 3)  # a has no deal in 180 days: the team prior (0+1)/(1+2)
    with_recent_win = RepStats.from_history([outcome("a", "won", 100), outcome("b", "lost", 1)])
    assert with_recent_win.capability(["a", "b"], NOW).win_rate[0, AUTO] > 0.5


def test_products_use_the_shorter_90_day_window() -> None:
    stats = RepStats.from_history([outcome("a", "won", 100), outcome("a", "lost", 100, 1), outcome("b", "lost", 1)])
    rates = stats.capability(["a", "b"], NOW)
    assert rates.close_rate[0, HV] == pytest.approx(rates.team_close_rate[HV])  # a's product deals too old
    assert rates.win_rate[0, AUTO] != pytest.approx(rates.team_win_rate[AUTO])  # but count for the industry


def test_rates_are_smoothed_towards_the_team_average() -> None:
    history = [outcome("new", "won", 3)] + [outcome("veteran", "won" if n < 6 else "lost", 5, n) for n in range(10)]
    rates = RepStats.from_history(history, prior_strength=5).capability(["new", "veteran"], NOW)
    team = (7 + 1) / (11 + 2)
    assert rates.team_win_rate[AUTO] == pytest.approx(team)
    assert rates.win_rate[0, AUTO] == pytest.approx((1 + 5 * team) / (1 + 5))
    assert rates.win_rate[1, AUTO] == pytest.approx((6 + 5 * team) / (10 + 5))


def test_online_updates_match_recomputation_and_accepted_outcomes_are_ignored() -> None:
    plan = [("won", 3), ("lost", 40), ("accepted", 2)]
    history = [outcome("a", kind, days, n) for n, (kind, days) in enumerate(plan)]
    online = RepStats()
    for item in history:
        online.record(item)
    ours, again = online.capability(["a", "x"], NOW), RepStats.from_history(history).capability(["a", "x"], NOW)
    np.testing.assert_allclose(ours.win_rate, again.win_rate)
    np.testing.assert_allclose(ours.close_rate, again.close_rate)
    assert ours.win_rate[1, AUTO] == pytest.approx(ours.team_win_rate[AUTO])  # no history: the team prior


def test_arrays_follow_the_requested_rep_order() -> None:
    stats = RepStats.from_history([outcome("a", "won", 1), outcome("b", "lost", 1)])
    forward, backward = stats.capability(["a", "b"], NOW), stats.capability(["b", "a"], NOW)
    assert forward.win_rate.shape == (2, len(INDUSTRIES)) and forward.close_rate.shape == (2, len(PRODUCTS))
    np.testing.assert_allclose(forward.win_rate[::-1], backward.win_rate)
    assert forward.win_rate[:, AUTO].flags.c_contiguous  # the matcher reads one industry for all reps


def test_memory_is_bounded_by_the_window() -> None:
    stats = RepStats()
    for day in range(400):
        stats.record(outcome("a", "won", 400 - day))
    assert stats.buckets("a") == 180
    stats.record(outcome("a", "won", 500))  # too old to matter: not even stored
    assert stats.buckets("a") == 180


def test_a_team_without_history_is_neutral() -> None:
    neutral = Capability.neutral(3)
    assert np.all(neutral.win_rate == 0.5) and np.all(neutral.close_rate == 0.5)
