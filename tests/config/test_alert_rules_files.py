"""The metric catalogue and the alert rules file: the shipped ones are valid; problems are all
collected and point into the YAML file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.policy_files import PolicyError, parse_policy
from models.alert_rules import ANY_REGION, EventMetric, MetricCatalog
from models.events import CallTranscript, PosRow, WebEvent
from streams.rules.parser import (
    DEFAULT_ALERT_RULES,
    DEFAULT_METRICS,
    RulesFileError,
    check_rules_file,
    load_metrics,
    load_rules,
    parse_rule,
    parse_rules,
)

CATALOG = load_metrics()
TS = "2026-11-23T10:00:00Z"


def test_the_shipped_catalogue_and_rules_are_valid() -> None:
    assert check_rules_file() == []
    rules = load_rules(DEFAULT_ALERT_RULES, CATALOG)
    assert len(rules) == 6
    assert rules.by_name("north-sales-drop-east-competitor") == \
        parse_rule(rules.by_name("north-sales-drop-east-competitor-zh").text, CATALOG,
                   "north-sales-drop-east-competitor")
    assert rules.by_name("checkout-conversion-drop").scope == ANY_REGION
    assert rules.by_name("sla-breaches").for_seconds == 300


def test_regions_and_stores() -> None:
    assert CATALOG.region_names() == ("North", "East", "South", "Southwest", "Central", "Northeast")
    assert CATALOG.region_named("华北") == CATALOG.region_named("north  CHINA") == "North"
    assert CATALOG.resolve_region("华东") == "East"
    assert CATALOG.resolve_region(None, store="GZ-001") == "South"
    assert CATALOG.resolve_region("Mars", store="nowhere") == CATALOG.default_region == "unknown"


def test_every_metric_has_a_chinese_and_an_english_name() -> None:
    for metric in CATALOG.metrics:
        spellings = metric.spellings()
        assert any(s.isascii() for s in spellings) and any(not s.isascii() for s in spellings), metric.name


def test_a_ratio_of_an_unknown_metric_is_refused() -> None:
    data = yaml.safe_load(DEFAULT_METRICS.read_text(encoding="utf-8"))
    data["metrics"].append({"type": "ratio", "name": "bad", "numerator": "sales", "denominator": "nope"})
    with pytest.raises(PolicyError, match="unknown metric 'nope'"):
        parse_policy(yaml.safe_dump(data), MetricCatalog)


def test_an_alias_of_two_things_is_refused() -> None:
    data = yaml.safe_load(DEFAULT_METRICS.read_text(encoding="utf-8"))
    data["metrics"][1]["aliases"].append("Sales")
    with pytest.raises(PolicyError, match="names both metric sales and metric orders"):
        parse_policy(yaml.safe_dump(data, allow_unicode=True), MetricCatalog)


def test_a_keyword_alias_is_refused_on_load(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_METRICS.read_text(encoding="utf-8"))
    data["metrics"][1]["aliases"].append("above")
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match="keyword"):
        load_metrics(path)


@pytest.mark.parametrize(("metric", "message"), [
    ({"type": "events", "name": "x", "source": "pos", "aggregate": "sum", "field": "dwell_seconds"},
     "needs field: one of amount, quantity"),
    ({"type": "events", "name": "x", "source": "web", "field": "dwell_seconds"}, "only used with aggregate: sum"),
    ({"type": "events", "name": "x", "source": "web", "where": {"sku": ["A*"]}}, "sku cannot filter web events"),
    ({"type": "builtin", "name": "profit"}, "unknown builtin metric 'profit'"),
])
def test_user_defined_metrics_must_fit_their_source(metric: dict, message: str) -> None:  # type: ignore[type-arg]
    data = yaml.safe_load(DEFAULT_METRICS.read_text(encoding="utf-8"))
    data["metrics"].append(metric)
    with pytest.raises(PolicyError, match=message):
        parse_policy(yaml.safe_dump(data, allow_unicode=True), MetricCatalog)


def test_user_defined_metrics_pick_their_events() -> None:
    checkouts, servo, inquiries = (CATALOG.metric(n) for n in ("checkouts", "servo_sales", "price_inquiries"))
    assert isinstance(checkouts, EventMetric) and isinstance(servo, EventMetric) and isinstance(inquiries, EventMetric)
    web = WebEvent.model_validate({"ts": TS, "kind": "page_view", "visitor_id": "v", "url": "https://x.cn/checkout/1"})
    assert checkouts.amount(web) == 1.0
    assert not checkouts.matches(web.model_copy(update={"url": "https://x.cn/cart"}))
    row = PosRow.model_validate({"ts": TS, "store": "SH-001", "region": "East", "sku": "SRV-400",
                                 "quantity": 2, "amount": 1999.5})
    assert servo.amount(row) == 1999.5 and servo.amount(row.model_copy(update={"sku": "PLC-1"})) == 0.0
    call = CallTranscript.model_validate({"ts": TS, "call_id": "c", "phone": "1", "text": "能给个报价吗"})
    assert inquiries.matches(call) and not inquiries.matches(web)


# --- rules files: every problem, at its place in the file -------------------------------------

def errors_of(text: str) -> list[PolicyError]:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(text, CATALOG, "alert_rules.yaml")
    return list(caught.value.errors)


def test_a_plain_scalar_error_points_into_the_file() -> None:
    text = ("rules:\n"
            "  - name: a\n"
            "    rule: when slaes in North drop more than 20% week over week then red\n")
    (error,) = errors_of(text)
    assert (error.line, error.column) == (3, 11 + 5)
    assert str(error) == "alert_rules.yaml:3:16: rules.0.rule: unknown metric 'slaes'; did you mean 'sales'?"
    assert text.splitlines()[2][error.column - 1:].startswith("slaes")


def test_quoted_scalars_count_quotes_and_escapes() -> None:
    text = ("rules:\n"
            "  - name: double\n"
            '    rule: "when\\t sales in \\u5317\\u4eac drop more than 20% week over week then red"\n'
            "  - name: single\n"
            "    rule: 'when sales in Nrth drop more than 20% week over week then red'\n")
    double, single = errors_of(text)
    lines = text.splitlines()
    # value "when\t sales in 北京 ..." -> 北京 (an unknown region) is at value column 17
    assert lines[double.line - 1][double.column - 1:].startswith("\\u5317\\u4eac")
    assert "unknown region '北京'" in double.message
    assert lines[single.line - 1][single.column - 1:].startswith("Nrth")
    assert (single.line, single.column) == (5, 26)


def test_single_quote_escapes_before_the_error() -> None:
    text = "rules:\n  - name: q\n    rule: 'when sales in North above 3 then ''red'''\n"
    (error,) = errors_of(text)
    assert text.splitlines()[2][error.column - 1:].startswith("''red")


def test_chinese_rules_are_positioned_by_characters() -> None:
    text = "rules:\n  - name: zh\n    rule: \"当华北消量周环比下降超过20%持续10分钟时触发橙色预警\"\n"
    (error,) = errors_of(text)
    assert text.splitlines()[2][error.column - 1:].startswith("消量")
    assert error.message == "rules.0.rule: unknown metric '消量'; did you mean '销量'?"


def test_all_problems_of_a_file_are_collected(tmp_path: Path) -> None:
    path = tmp_path / "alert_rules.yaml"
    path.write_text(
        "rules:\n"
        "  - name: ok\n"
        "    rule: when sales in North above 3 then red\n"
        "  - name: bad-severity\n"
        "    rule: when sales in North above 3 then purple\n"
        "  - name: ok\n"
        "    rule: 当 华北 销量 高于 3 时 触发 红色\n"
        "  - name: Bad Name\n"
        "    rule: when sales in North above 3 then red\n"
        "  - name: no-rule\n"
        "    severity: red\n"
        "extra: 1\n", encoding="utf-8")
    messages = check_rules_file(path)
    assert messages == [
        f"{path}:12:8: extra: Extra inputs are not permitted",
        f"{path}:5:44: rules.1.rule: unexpected 'purple'; expected a severity: red, orange, yellow, blue "
        "/ 红色, 橙色, 黄色, 蓝色",
        f"{path}:6:11: rules.2.name: duplicate rule name 'ok' (first at line 2)",
        f"{path}:8:11: rules.3.name: String should match pattern '^[a-z0-9][a-z0-9_.-]{{0,63}}$'",
        f"{path}:10:5: rules.4.rule: Field required",
        f"{path}:11:15: rules.4.severity: Extra inputs are not permitted",
    ]
    with pytest.raises(RulesFileError) as caught:
        load_rules(path, CATALOG)
    assert isinstance(caught.value, PolicyError) and len(caught.value.errors) == 6
    assert (caught.value.line, caught.value.column) == (12, 8)


def test_broken_yaml_and_missing_files() -> None:
    (error,) = errors_of("rules:\n  - name: [x\n")
    assert "not valid YAML" in error.message
    assert check_rules_file(Path("/nonexistent/alert_rules.yaml"))[0].endswith("No such file or directory")


def test_an_empty_file_has_no_rules() -> None:
    assert len(parse_rules("", CATALOG)) == 0
    (error,) = errors_of("rules: 3\n")
    assert error.message.startswith("rules: ")
