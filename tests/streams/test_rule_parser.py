"""The alert rule language: English and Chinese rules parse to the same typed tree; bad rules are
refused with position, what was expected and the name probably meant."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.alert_rules import ANY_REGION, And, Change, Comparison, MetricCatalog, Or, RatioMetric, Rule, Threshold
from streams.rules.parser import VOCABULARY, RuleError, RuleParser, load_metrics, parse_rule, parser_for

CATALOG = load_metrics()

FIRST_EN = ("when sales in North drop more than 20% week over week and competitor activity in East rises "
            "more than 30% week over week for 10m then orange")
FIRST_ZH = "当 华北 销量 周环比 下降 超过 20% 且 华东 竞品活动 周环比 上升 超过 30% 持续 10分钟 时 触发 橙色预警"
NORTH_SALES = Comparison("sales", "North", Change("down", 20.0, "week"))
EAST_COMPETITOR = Comparison("competitor_activity", "East", Change("up", 30.0, "week"))


def parse(text: str, name: str = "r") -> Rule:
    return parse_rule(text, CATALOG, name)


def error_of(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse(text)
    return caught.value


def cmp(metric: str, region: str, test: Change | Threshold) -> Comparison:
    return Comparison(metric, region, test)


# --- the examples of the issue -----------------------------------------------------------------

def test_the_first_example_means_what_it_says() -> None:
    rule = parse(FIRST_EN, "north")
    assert rule == Rule("north", And((NORTH_SALES, EAST_COMPETITOR)), 600, "orange", "North")
    assert rule.text == FIRST_EN


def test_the_chinese_example_is_the_same_rule() -> None:
    assert parse(FIRST_ZH) == parse(FIRST_EN)


def test_unspaced_chinese_is_the_same_as_spaced() -> None:
    unspaced = "当华北销量周环比下降超过20%持续10分钟时触发橙色预警"
    spaced = "当 华北 销量 周环比 下降 超过 20% 持续 10分钟 时 触发 橙色预警"
    english = "when sales in North drop more than 20% week over week for 10m then orange"
    assert parse(unspaced) == parse(spaced) == parse(english)
    assert parse(unspaced).condition == NORTH_SALES
    assert parse(FIRST_ZH.replace(" ", "")) == parse(FIRST_EN)


def test_a_user_defined_ratio_metric_in_any_region() -> None:
    rule = parse("when checkout conversion in any region drops more than 30% week over week for 1h then red")
    assert rule == Rule("r", cmp("checkout_conversion", ANY_REGION, Change("down", 30.0, "week")), 3600, "red",
                        ANY_REGION)
    assert isinstance(CATALOG.metric(rule.condition.metric), RatioMetric)  # type: ignore[union-attr]
    assert parse("当 任一区域 结账转化率 周环比 下降 超过 30% 持续 1小时 时 触发 红色预警") == rule


def test_absolute_thresholds_in_both_languages() -> None:
    rule = parse("when sla breaches in any region above 5 for 5m then yellow")
    assert rule == Rule("r", cmp("sla_breaches", ANY_REGION, Threshold("above", 5.0)), 300, "yellow", ANY_REGION)
    assert parse("当 任一区域 SLA超时 高于 5 持续 5分钟 时 触发 黄色预警") == rule
    assert parse("当任一区域SLA超时高于5持续5分钟时触发黄色预警") == rule
    below = parse("when web sessions in South below 120.5 then blue")
    assert below.condition == cmp("web_sessions", "South", Threshold("below", 120.5))
    assert below.for_seconds == 0
    assert parse("当 华南 网站访问 低于 120.5 时 触发 蓝色预警") == below


def test_a_percent_threshold_of_a_ratio_metric_is_a_fraction() -> None:
    rule = parse("when checkout conversion in East below 2% for 15m then orange")
    assert rule.condition == cmp("checkout_conversion", "East", Threshold("below", 0.02))
    assert parse("当 华东 结账转化率 低于 2％ 持续 15分钟 触发 橙色") == rule


def test_day_over_day_and_rises() -> None:
    rule = parse("when orders in Southwest rise more than 50% day over day then blue")
    assert rule.condition == cmp("orders", "Southwest", Change("up", 50.0, "day"))
    assert parse("当 西南 订单 日环比 上升 超过 50% 时 触发 蓝色预警") == rule
    assert parse("when orders in Southwest rises by more than 50% DoD then blue") == rule


@pytest.mark.parametrize(("en", "zh", "seconds"), [
    ("30s", "30秒", 30), ("10m", "10分钟", 600), ("1h", "1小时", 3600), ("1d", "1天", 86400),
    ("90 seconds", "90秒钟", 90), ("2 hours", "2小时", 7200), ("15 min", "15分", 900)])
def test_durations(en: str, zh: str, seconds: int) -> None:
    english = parse(f"when units in Central drop more than 10% week over week for {en} then red")
    chinese = parse(f"当 华中 件数 周环比 下降 超过 10% 持续 {zh} 时 触发 红色预警")
    assert english.for_seconds == chinese.for_seconds == seconds
    assert english == chinese


@pytest.mark.parametrize(("en", "zh"), [("red", "红色"), ("orange", "橙色"), ("yellow", "黄色"), ("blue", "蓝色")])
def test_severities(en: str, zh: str) -> None:
    english = parse(f"when units in Central above 3 then {en}")
    assert english.severity == en
    assert parse(f"当 华中 件数 高于 3 时 触发 {zh}预警") == english
    assert parse(f"当 华中 件数 高于 3 触发 {zh}") == english


def test_or_in_both_languages() -> None:
    rule = parse("when sales in North drop more than 20% week over week or competitor activity in East rises "
                 "more than 30% week over week then red")
    assert rule.condition == Or((NORTH_SALES, EAST_COMPETITOR))
    assert parse("当 华北 销量 周环比 下降 超过 20% 或 华东 竞品活动 周环比 上升 超过 30% 时 触发 红色预警") == rule


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    a = "sales in North drop more than 20% week over week"
    b = "orders in North drop more than 20% week over week"
    c = "sla breaches in North above 3"
    ca, cb, cc = (parse(f"when {x} then red").condition for x in (a, b, c))
    assert parse(f"when {a} or {b} and {c} then red").condition == Or((ca, And((cb, cc))))
    assert parse(f"when {a} and {b} or {c} then red").condition == Or((And((ca, cb)), cc))
    assert parse(f"when ({a} or {b}) and {c} then red").condition == And((Or((ca, cb)), cc))
    assert parse(f"when {a} and ({b} and {c}) then red").condition == And((ca, cb, cc))  # flattened
    zh = "当 （华北 销量 周环比 下降 超过 20% 或 华北 订单 周环比 下降 超过 20%） 且 华北 SLA超时 高于 3 时 触发 红色"
    assert parse(zh).condition == And((Or((ca, cb)), cc))


def test_region_aliases_and_case_do_not_matter() -> None:
    assert parse("WHEN Sales IN north china DROP MORE THAN 20% Week Over Week FOR 10M THEN Orange").condition \
        == NORTH_SALES
    assert parse("当 华北区 销售额 周环比 下跌 超过 20% 触发 橙色").condition == NORTH_SALES


def test_scope_is_any_when_a_comparison_is_any_else_the_first_region() -> None:
    mixed = parse("when competitor activity in East rises more than 30% week over week and "
                  "sales in any region drop more than 20% week over week then red")
    assert mixed.scope == ANY_REGION
    assert parse(FIRST_EN).scope == "North"
    assert parse("when competitor activity in East rises more than 30% week over week and "
                 "sales in North drop more than 20% week over week then red").scope == "East"


# --- errors ---------------------------------------------------------------------------------

def test_an_unknown_metric_is_named_with_its_position_and_a_suggestion() -> None:
    error = error_of("when slaes in North drop more than 20% week over week then red")
    assert str(error) == "unknown metric 'slaes' at 1:6; did you mean 'sales'?"
    assert (error.line, error.column, error.suggestion) == (1, 6, "sales")
    assert error.problems[0].kind == "unknown_metric"
    assert error.expected == "a metric name"


def test_an_unknown_multi_word_metric_is_one_name() -> None:
    error = error_of("when checkout conversions in any region drops more than 30% week over week then red")
    assert str(error) == "unknown metric 'checkout conversions' at 1:6; did you mean 'checkout conversion'?"


def test_an_unknown_region_is_named() -> None:
    error = error_of("when sales in Nrth drop more than 20% week over week then red")
    assert str(error) == "unknown region 'Nrth' at 1:15; did you mean 'North'?"
    assert error.problems[0].kind == "unknown_region"


def test_unknown_chinese_names_even_without_spaces() -> None:
    error = error_of("当华北消量周环比下降超过20%持续10分钟时触发橙色预警")
    assert str(error) == "unknown metric '消量' at 1:4; did you mean '销量'?"
    error = error_of("当 西楠 销量 周环比 下降 超过 20% 时 触发 橙色")
    assert str(error) == "unknown region '西楠' at 1:3; did you mean '西南'?"


def test_every_unknown_name_of_a_rule_is_reported() -> None:
    error = error_of("when slaes in Nrth drop more than 20% week over week and ordrs in East above 3 then red")
    assert [(p.kind, p.column, p.suggestion) for p in error.problems] == [
        ("unknown_metric", 6, "sales"), ("unknown_region", 15, "North"), ("unknown_metric", 58, "orders")]


def test_a_wrong_severity_says_what_was_expected() -> None:
    error = error_of("when sales in North drop more than 20% week over week then ornage")
    assert (error.line, error.column) == (1, 60)
    assert error.expected is not None and error.expected.startswith("a severity: red, orange, yellow, blue")
    assert error.suggestion == "orange"
    assert str(error) == ("unexpected 'ornage' at 1:60; expected a severity: red, orange, yellow, blue "
                          "/ 红色, 橙色, 黄色, 蓝色; did you mean 'orange'?")


def test_a_rule_that_ends_early() -> None:
    error = error_of("when sales in North drop more than 20% week over week then")
    assert str(error).startswith("the rule ends too early at 1:59; expected a severity: red, orange, yellow, blue")


def test_a_missing_baseline() -> None:
    error = error_of("when sales in North drop more than 20% then red")
    assert (error.column, error.expected) == (40, "a baseline: week over week, day over day / 周环比, 日环比")


def test_a_missing_percent_sign() -> None:
    error = error_of("when sales in North drop more than 20 week over week then red")
    assert error.column == 39 and error.expected == "'%'"


def test_a_misspelt_keyword_gets_a_suggestion() -> None:
    error = error_of("when sales in North drop more than 20% week over week fro 10m then red")
    assert error.column == 55 and error.suggestion == "for"
    assert "'then' / '触发'" in (error.expected or "")


def test_missing_region_says_which_regions_exist() -> None:
    error = error_of("when sales drop more than 20% week over week then red")
    assert error.column == 12
    assert error.expected == "'in' and a region"
    error = error_of("when sales in drop more than 20% week over week then red")
    assert "a region: North, East, South, Southwest, Central, Northeast or 'any region'" in (error.expected or "")


def test_an_unbalanced_parenthesis() -> None:
    error = error_of("when (sales in North above 3 then red")
    assert error.column == 30 and "')'" in (error.expected or "")


def test_stray_characters() -> None:
    error = error_of("when sales in North above 3 ; then red")
    assert error.column == 29 and str(error).startswith("unexpected ';' at 1:29")


def test_impossible_values_are_refused() -> None:
    error = error_of("when sales in North drop more than 120% week over week then red")
    assert error.column == 36 and "can never happen" in str(error)
    error = error_of("when sales in North above 5% then red")
    assert error.column == 27 and "ratio metric only" in str(error)


def test_no_code_is_ever_run() -> None:
    for text in ("__import__('os').system('true')", "when sales in North above 1+1 then red", ""):
        with pytest.raises(RuleError):
            parse(text)


# --- the grammar and the catalogue ------------------------------------------------------------

def test_every_listed_keyword_spelling_lexes_as_its_terminal() -> None:
    terminals = {t.name: re.compile(t.pattern.to_regexp()) for t in parser_for(CATALOG)._lark.terminals}
    for name, spellings in VOCABULARY.items():
        for spelling in spellings:
            assert terminals[name].fullmatch(spelling), (name, spelling)


def test_a_catalogue_alias_that_is_a_keyword_is_refused() -> None:
    data = CATALOG.model_dump()
    data["metrics"][0]["aliases"] = ["then"]
    with pytest.raises(ValueError, match="keyword"):
        RuleParser(MetricCatalog.model_validate(data))


# --- round trip: any well-formed rule, written in English or Chinese, parses back ---------------

EN_UNITS = [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")]
ZH_UNITS = [(86400, "天"), (3600, "小时"), (60, "分钟"), (1, "秒")]
ZH_SEVERITY = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
METRICS = [m.name for m in CATALOG.metrics]
REGIONS = [*CATALOG.region_names(), ANY_REGION]


def spellings(name: str, chinese: bool, items: tuple) -> list[str]:  # type: ignore[type-arg]
    item = next(i for i in items if i.name == name)
    return [s for s in item.spellings() if s.isascii() != chinese]


def number(value: float) -> str:
    return repr(value).removesuffix(".0")


tests = st.one_of(
    st.builds(Change, st.sampled_from(["up", "down"]), st.integers(0, 9999).map(lambda n: n / 100),
              st.sampled_from(["day", "week"])),
    st.builds(Threshold, st.sampled_from(["above", "below"]), st.integers(0, 10**7).map(lambda n: n / 100)))
comparison_st = st.builds(Comparison, st.sampled_from(METRICS), st.sampled_from(REGIONS), tests)


def exprs(kind: type | None = None) -> st.SearchStrategy:  # type: ignore[type-arg]
    """Normalised trees: And / Or of 2..3 parts, never directly nested in their own kind."""
    def extend(children: st.SearchStrategy) -> st.SearchStrategy:  # type: ignore[type-arg]
        return st.one_of(
            st.lists(children.filter(lambda e: not isinstance(e, And)), min_size=2, max_size=3)
            .map(lambda parts: And(tuple(parts))),
            st.lists(children.filter(lambda e: not isinstance(e, Or)), min_size=2, max_size=3)
            .map(lambda parts: Or(tuple(parts))))
    return st.recursive(comparison_st, extend, max_leaves=5)


def render(expr: object, chinese: bool, draw: st.DrawFn, top: bool = True) -> str:
    if isinstance(expr, (And, Or)):
        joiner = (" 且 " if chinese else " and ") if isinstance(expr, And) else (" 或 " if chinese else " or ")
        text = joiner.join(render(part, chinese, draw, False) for part in expr.parts)
        # An Or inside an And needs parentheses; elsewhere they are optional.
        if not top and (isinstance(expr, Or) or draw(st.booleans())):
            return f"（{text}）" if chinese and draw(st.booleans()) else f"({text})"
        return text
    assert isinstance(expr, Comparison)
    metric = draw(st.sampled_from(spellings(expr.metric, chinese, CATALOG.metrics)))
    if expr.region == ANY_REGION:
        region = draw(st.sampled_from(["任一区域", "任意区域"] if chinese else ["any region", "Any Region"]))
    else:
        region = draw(st.sampled_from(spellings(expr.region, chinese, CATALOG.regions)))
    test = expr.test
    if chinese:
        if isinstance(test, Change):
            base = "周环比" if test.baseline == "week" else "日环比"
            move = draw(st.sampled_from(["上升", "增长"] if test.direction == "up" else ["下降", "减少"]))
            return f"{region} {metric} {base} {move} 超过 {number(test.percent)}%"
        return f"{region} {metric} {'高于' if test.op == 'above' else '低于'} {number(test.value)}"
    if isinstance(test, Change):
        base = "week over week" if test.baseline == "week" else "day over day"
        move = draw(st.sampled_from(["rises", "increases"] if test.direction == "up" else ["drops", "falls"]))
        return f"{metric} in {region} {move} more than {number(test.percent)}% {base}"
    return f"{metric} in {region} {test.op} {number(test.value)}"


@st.composite
def rules_as_text(draw: st.DrawFn) -> tuple[Rule, str, str]:
    condition = draw(exprs())
    amount, unit = draw(st.integers(0, 90)), draw(st.integers(0, 3))
    seconds = amount * EN_UNITS[unit][0]
    severity = draw(st.sampled_from(["red", "orange", "yellow", "blue"]))
    from models.alert_rules import scope_of
    rule = Rule("gen", condition, seconds, severity, scope_of(condition))
    en_for = f" for {amount}{EN_UNITS[unit][1]}" if seconds else ""
    zh_for = f" 持续 {amount}{ZH_UNITS[unit][1]}" if seconds else ""
    english = f"when {render(condition, False, draw)}{en_for} then {severity}"
    chinese = f"当 {render(condition, True, draw)}{zh_for} 时 触发 {ZH_SEVERITY[severity]}预警"
    if draw(st.booleans()):
        chinese = chinese.replace(" ", "")
    return rule, english, chinese


@settings(max_examples=300, deadline=None)
@given(rules_as_text())
def test_random_rules_in_english_and_chinese_parse_back_to_the_same_tree(case: tuple[Rule, str, str]) -> None:
    rule, english, chinese = case
    assert parse(english, "gen") == rule, english
    assert parse(chinese, "gen") == rule, chinese
