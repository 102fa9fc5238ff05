"""Evaluating parsed alert rules against metric values and their day- / week-ago baselines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.rules.evaluate import RatioView, compare, evaluate_regions, evaluate_rule
from streams.rules.parser import load_metrics, parse_rule

CATALOG = load_metrics()
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
DAY_AGO, WEEK_AGO = NOW - timedelta(days=1), NOW - timedelta(days=7)
FIRST = ("when sales in North drop more than 20% week over week and competitor activity in East rises "
         "more than 30% week over week for 10m then orange")


class View:
    """A MetricView over a dict; anything not in it is absent."""

    def __init__(self, values: dict[tuple[str, str, datetime], float]) -> None:
        self.values = values
        self.asked: list[tuple[str, str, datetime]] = []

    def value(self, metric: str, region: str, window_end: datetime) -> float | None:
        self.asked.append((metric, region, window_end))
        return self.values.get((metric, region, window_end))


def rule(text: str):  # type: ignore[no-untyped-def]
    return parse_rule(text, CATALOG, "test")


def sales_north(now: float, week_ago: float | None) -> View:
    values = {("sales", "North", NOW): now}
    if week_ago is not None:
        values[("sales", "North", WEEK_AGO)] = week_ago
    return View(values)


DROP = "when sales in North drop more than 20% week over week then red"


def test_a_25_percent_fall_is_a_drop_of_more_than_20_percent() -> None:
    evaluation = evaluate_rule(rule(DROP), sales_north(750, 1000), NOW)
    assert evaluation.holds and evaluation.region == "North"
    (result,) = evaluation.triggered
    assert (result.value, result.baseline, result.change_percent) == (750, 1000, -25.0)
    assert (evaluation.value, evaluation.baseline) == (750, 1000)
    assert result.reason == "sales in North fell 25% week over week (750 vs 1000), more than 20% down"


@pytest.mark.parametrize(("now", "holds"), [(800, False), (799, True), (1300, False), (0, True)])
def test_more_than_is_strict(now: float, holds: bool) -> None:
    assert evaluate_rule(rule(DROP), sales_north(now, 1000), NOW).holds is holds


def test_a_rise_rule_needs_a_rise() -> None:
    rise = rule("when sales in North rise more than 20% week over week then red")
    assert evaluate_rule(rise, sales_north(1250, 1000), NOW).holds
    assert not evaluate_rule(rise, sales_north(750, 1000), NOW).holds


def test_day_over_day_compares_with_a_day_ago() -> None:
    view = View({("orders", "South", NOW): 50, ("orders", "South", DAY_AGO): 100,
                 ("orders", "South", WEEK_AGO): 50})
    evaluation = evaluate_rule(rule("when orders in South drop more than 40% day over day then blue"), view, NOW)
    assert evaluation.holds and evaluation.baseline == 100
    assert ("orders", "South", DAY_AGO) in view.asked


def test_a_zero_baseline_never_holds_and_says_why() -> None:
    evaluation = evaluate_rule(rule(DROP), sales_north(0, 0), NOW)
    assert not evaluation.holds
    (result,) = evaluation.results
    assert result.baseline == 0 and result.change_percent is None
    assert result.reason == "sales in North: the week-ago value is 0, a change in % is undefined"


def test_an_absent_baseline_or_value_never_holds() -> None:
    (result,) = evaluate_rule(rule(DROP), sales_north(10, None), NOW).results
    assert not result.holds and result.reason == "sales in North: no week-ago value to compare with"
    (result,) = evaluate_rule(rule(DROP), View({("sales", "North", WEEK_AGO): 5.0}), NOW).results
    assert not result.holds and result.reason == "sales in North: no value"


def test_a_negative_baseline_keeps_the_direction() -> None:
    view = View({("copper_price", "East", NOW): -150, ("copper_price", "East", WEEK_AGO): -100})
    (result,) = evaluate_rule(rule("when copper price in East drops more than 40% wow then red"), view, NOW).results
    assert result.holds and result.change_percent == -50.0


def test_thresholds() -> None:
    above = rule("when sla breaches in East above 5 then yellow")
    below = rule("when sla breaches in East below 5 then yellow")
    for value, is_above, is_below in ((6, True, False), (5, False, False), (4, False, True)):
        view = View({("sla_breaches", "East", NOW): value})
        assert evaluate_rule(above, view, NOW).holds is is_above
        assert evaluate_rule(below, view, NOW).holds is is_below
    evaluation = evaluate_rule(above, View({("sla_breaches", "East", NOW): 7}), NOW)
    assert evaluation.triggered[0].reason == "sla_breaches in East is 7, above 5"
    assert evaluation.baseline is None
    assert not evaluate_rule(above, View({}), NOW).holds


def test_the_first_example_is_one_alert_for_north_with_both_values() -> None:
    view = View({("sales", "North", NOW): 700, ("sales", "North", WEEK_AGO): 1000,
                 ("competitor_activity", "East", NOW): 14, ("competitor_activity", "East", WEEK_AGO): 10})
    evaluations = evaluate_regions(rule(FIRST), view, NOW, CATALOG.region_names())
    assert [e.region for e in evaluations] == ["North"]
    sales, competitor = evaluations[0].triggered
    assert (sales.region, sales.value, sales.baseline, sales.change_percent) == ("North", 700, 1000, -30.0)
    assert (competitor.region, competitor.value, competitor.baseline, competitor.change_percent) == \
        ("East", 14, 10, 40.0)
    view.values[("competitor_activity", "East", NOW)] = 12  # +20%: not enough
    evaluation = evaluate_rule(rule(FIRST), view, NOW)
    assert not evaluation.holds and evaluation.triggered == ()
    assert [r.holds for r in evaluation.results] == [True, False]


def test_any_region_gives_the_regions_where_it_holds() -> None:
    sla = rule("when sla breaches in any region above 5 for 5m then yellow")
    view = View({("sla_breaches", "North", NOW): 9, ("sla_breaches", "East", NOW): 5,
                 ("sla_breaches", "South", NOW): 6})
    evaluations = evaluate_regions(sla, view, NOW, CATALOG.region_names())
    assert [(e.region, e.value) for e in evaluations] == [("North", 9), ("South", 6)]
    assert len(evaluate_regions(sla, view, NOW, CATALOG.region_names(), only_holding=False)) == 6


def test_a_fixed_region_in_an_any_rule_stays_fixed() -> None:
    mixed = rule("when competitor activity in East above 10 and sales in any region below 100 then red")
    view = View({("competitor_activity", "East", NOW): 11, ("sales", "North", NOW): 50,
                 ("sales", "South", NOW): 500})
    evaluations = evaluate_regions(mixed, view, NOW, ["North", "South"])
    assert [e.region for e in evaluations] == ["North"]
    assert [r.region for r in evaluations[0].results] == ["East", "North"]


def test_or_reports_only_the_comparisons_that_held() -> None:
    either = rule("when sales in North above 100 or orders in North above 10 then red")
    evaluation = evaluate_rule(either, View({("sales", "North", NOW): 50, ("orders", "North", NOW): 11}), NOW)
    assert evaluation.holds
    assert [r.comparison.metric for r in evaluation.triggered] == ["orders"]
    assert evaluation.value == 11


def test_region_arguments_must_fit_the_scope() -> None:
    with pytest.raises(ValueError, match="per region"):
        evaluate_rule(rule("when sales in any region above 1 then red"), View({}), NOW)
    with pytest.raises(ValueError, match="scoped to North"):
        evaluate_rule(rule(DROP), View({}), NOW, "East")


def test_ratio_metrics_are_computed_from_their_parts() -> None:
    conversion = rule("when checkout conversion in any region drops more than 30% week over week for 1h then red")
    base = View({("checkouts", "East", NOW): 30, ("cart_views", "East", NOW): 100,
                 ("checkouts", "East", WEEK_AGO): 50, ("cart_views", "East", WEEK_AGO): 100,
                 ("checkouts", "North", NOW): 5, ("cart_views", "North", NOW): 0,
                 ("checkouts", "North", WEEK_AGO): 5, ("cart_views", "North", WEEK_AGO): 10})
    view = RatioView(base, CATALOG)
    evaluations = evaluate_regions(conversion, view, NOW, ["East", "North"], only_holding=False)
    east, north = evaluations
    assert east.holds and east.results[0].value == pytest.approx(0.3) and east.results[0].baseline == 0.5
    assert not north.holds and north.results[0].reason == "checkout_conversion in North: no value"
    assert view.value("sales", "East", NOW) is None  # other metrics pass through


def test_compare_alone() -> None:
    comparison = rule(DROP).condition
    result = compare(comparison, sales_north(100, 1000), NOW, "North")  # type: ignore[arg-type]
    assert result.holds and result.change_percent == -90.0
