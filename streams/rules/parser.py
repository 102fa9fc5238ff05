"""Parsing alert rules: rule text -> typed Rule, rules files -> RuleSet, with errors that say
where, what was expected and which known name was probably meant.

The grammar (grammar.lark) is LALR(1) with lark's contextual lexer. LALR because the
language is small and unambiguous: parsing is linear and deterministic, a rule has exactly one
tree, and at an error the parser state knows precisely which terminals it could accept, which
is what "expected a severity: red, orange, ..." is made from. The contextual lexer tries only the
terminals the current state accepts, so names and keywords need no spaces between them
(unspaced Chinese) and a metric alias is never mistaken for a keyword. Metric and region names
are terminals built from the catalogue at load time, longest alias first.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

import yaml
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from pydantic import ValidationError

from config.policy_files import PolicyError, parse_policy, read_yaml, yaml_node, yaml_position
from config.settings import POLICY_DIR
from models.alert_rules import (
    ANY_REGION,
    And,
    Change,
    Comparison,
    Expr,
    MetricCatalog,
    Or,
    RatioMetric,
    Rule,
    RuleEntry,
    RulesFile,
    Threshold,
    alias_key,
    scope_of,
)

DEFAULT_METRICS = POLICY_DIR / "metrics.yaml"
DEFAULT_ALERT_RULES = POLICY_DIR / "alert_rules.yaml"
GRAMMAR = Path(__file__).with_name("grammar.lark")

# Spellings of each keyword terminal of grammar.lark: for near-miss suggestions and the word
# lists of error messages (a test checks each spelling lexes as its terminal).
VOCABULARY: dict[str, tuple[str, ...]] = {
    "_WHEN": ("when", "当"),
    "_IN": ("in",),
    "ANY_REGION": ("any region", "任一区域", "任意区域", "任何区域"),
    "BASELINE": ("week over week", "day over day", "wow", "dod", "周环比", "日环比"),
    "DIRECTION": ("drop", "drops", "fall", "falls", "decline", "declines", "decrease", "decreases",
                  "rise", "rises", "grow", "grows", "increase", "increases",
                  "下降", "下跌", "减少", "降低", "上升", "上涨", "增长", "增加", "提升"),
    "_MORE_THAN": ("more than", "by more than", "超过"),
    "ABOVE": ("above", "高于", "大于"),
    "BELOW": ("below", "低于", "小于"),
    "PCT": ("%", "％"),
    "_FOR": ("for", "持续"),
    "UNIT": ("s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes",
             "h", "hr", "hrs", "hour", "hours", "d", "day", "days", "秒", "秒钟", "分", "分钟", "小时", "天"),
    "_SHI": ("时",),
    "_THEN": ("then", "触发"),
    "SEVERITY": ("red", "orange", "yellow", "blue", "红色", "橙色", "黄色", "蓝色"),
    "_WARNING": ("alert", "预警", "告警"),
    "_AND": ("and", "且", "并且", "而且"),
    "_OR": ("or", "或", "或者"),
    "_LPAR": ("(", "（"),
    "_RPAR": (")", "）"),
}
_UP = {"rise", "rises", "grow", "grows", "increase", "increases", "上升", "上涨", "增长", "增加", "提升"}
_SEVERITY = {"red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue",
             "红色": "red", "橙色": "orange", "黄色": "yellow", "蓝色": "blue"}
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "秒": 1, "秒钟": 1, "m": 60, "min": 60, "minute": 60,
                 "分": 60, "分钟": 60, "h": 3600, "hr": 3600, "hour": 3600, "小时": 3600,
                 "d": 86400, "day": 86400, "天": 86400}

# What each terminal means to a rule author, in the order messages list them.
_EXPECTED: dict[str, str] = {
    "_WHEN": "'when' / '当'",
    "METRIC": "a metric name",
    "REGION": "a region",
    "ANY_REGION": "'any region' / '任一区域'",
    "_IN": "'in' and a region",
    "BASELINE": "a baseline: week over week, day over day / 周环比, 日环比",
    "DIRECTION": "a change: drops, rises / 下降, 上升",
    "ABOVE": "a threshold: above, below / 高于, 低于",
    "BELOW": "a threshold: above, below / 高于, 低于",
    "_MORE_THAN": "'more than' / '超过'",
    "NUMBER": "a number",
    "PCT": "'%'",
    "_AND": "'and' / '且'",
    "_OR": "'or' / '或'",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_FOR": "'for' and a duration / '持续'",
    "UNIT": "a duration unit: s, m, h, d / 秒, 分钟, 小时, 天",
    "_THEN": "'then' / '触发'",
    "SEVERITY": "a severity: red, orange, yellow, blue / 红色, 橙色, 黄色, 蓝色",
    "$END": "the end of the rule",
}
_OPTIONAL = {"_SHI", "_WARNING", "WORD"}  # never worth naming next to a required alternative
_ASCII_WORD_END = r"(?![A-Za-z0-9_])"

ProblemKind = Literal["syntax", "unknown_metric", "unknown_region", "invalid"]


@dataclass(frozen=True)
class RuleProblem:
    """One thing wrong with a rule, at a 1-based line and column of the rule text."""

    line: int
    column: int
    kind: ProblemKind
    message: str  # e.g. "unknown metric 'slaes'"
    expected: str | None = None  # in words: "a severity: red, orange, yellow, blue / ..."
    suggestion: str | None = None  # the known spelling that was probably meant

    def describe(self, at: str = "") -> str:
        """The problem without its position (as in a rules-file error), or with `at` after the
        message: "unknown metric 'slaes' at 1:6; did you mean 'sales'?"."""
        parts = [self.message + at]
        if self.expected and self.kind == "syntax":
            parts.append(f"expected {self.expected}")
        if self.suggestion:
            parts.append(f"did you mean {self.suggestion!r}?")
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.describe(f" at {self.line}:{self.column}")


class RuleError(ValueError):
    """A rule that cannot be used; `problems` lists everything found, first one first."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)
        first = problems[0]
        self.line, self.column, self.expected, self.suggestion = first.line, first.column, first.expected, first.suggestion


class RulesFileError(PolicyError):
    """A rules file with problems; `errors` holds all of them, each with its file position."""

    def __init__(self, errors: list[PolicyError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.line, first.column, first.message)
        self.errors = tuple(errors)
        self.args = ("\n".join(str(error) for error in errors),)

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    catalog: MetricCatalog

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def by_name(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


# --- the parser ---------------------------------------------------------------------------

def _alternation(spellings: list[str]) -> str:
    """A regex matching any spelling: longest first, English words case-insensitive with any
    run of spaces between them and a word end after them."""
    patterns = []
    for spelling in sorted(set(spellings), key=lambda s: (-len(s), s)):
        pattern = r"\s+".join(re.escape(part) for part in spelling.split())
        if spelling[-1].isascii() and (spelling[-1].isalnum() or spelling[-1] == "_"):
            pattern += _ASCII_WORD_END
        patterns.append(pattern)
    return "(?i:" + "|".join(patterns) + ")"


def _lark_regex(pattern: str) -> str:
    return "/" + pattern.replace("/", "\\/") + "/"


class RuleParser:
    """Parses rule text against one metric catalogue. Build once per catalogue; parse is cheap."""

    def __init__(self, catalog: MetricCatalog) -> None:
        self.catalog = catalog
        self._metrics = catalog.metric_aliases()
        self._regions = catalog.region_aliases()
        self._metric_spellings = [s for m in catalog.metrics for s in m.spellings()]
        self._region_spellings = [s for r in catalog.regions for s in r.spellings()]
        grammar = GRAMMAR.read_text(encoding="utf-8") + self._name_terminals()
        self._lark = Lark(grammar, parser="lalr", lexer="contextual", start="start")
        self._refuse_keyword_aliases()

    def _name_terminals(self) -> str:
        keywords = [s for name, spellings in VOCABULARY.items() if name != "UNIT" for s in spellings]
        english = sorted({word for s in keywords if s.isascii() for word in s.split() if word.isalpha()})
        stop_en = "(?i:" + "|".join(english) + ")" + _ASCII_WORD_END
        # Where an unknown Chinese name ends in unspaced text: before a keyword or a known name.
        stops = [s for s in keywords + self._metric_spellings + self._region_spellings
                 if not s.isascii() and (len(s) > 1 or s in ("且", "或"))]
        stop_zh = _alternation(stops)
        word_en = rf"(?!{stop_en})[A-Za-z_][A-Za-z0-9_\-]*(?:[ \t]+(?!{stop_en})[A-Za-z_][A-Za-z0-9_\-]*)*"
        word_zh = rf"(?:(?!{stop_zh})[^\sA-Za-z0-9_%％()（）])+"
        return (
            f"\nMETRIC.3: {_lark_regex(_alternation(self._metric_spellings))}\n"
            f"REGION.3: {_lark_regex(_alternation(self._region_spellings))}\n"
            f"WORD: {_lark_regex(word_en + '|' + word_zh)}\n"
        )

    def _refuse_keyword_aliases(self) -> None:
        keywords = [re.compile(term.pattern.to_regexp()) for term in self._lark.terminals if term.name in VOCABULARY]
        for spelling in self._metric_spellings + self._region_spellings:
            if any(pattern.fullmatch(spelling) for pattern in keywords):
                raise ValueError(f"{spelling!r} cannot name a metric or region: it is a keyword of the rule language")

    def parse(self, text: str, name: str = "rule") -> Rule:
        """The Rule `text` says, or RuleError with every problem found."""
        rule, problems = self.check(text, name)
        if problems:
            raise RuleError(problems)
        assert rule is not None
        return rule

    def check(self, text: str, name: str = "rule") -> tuple[Rule | None, list[RuleProblem]]:
        try:
            tree = self._lark.parse(text)
        except UnexpectedInput as exc:
            return None, [self._syntax_problem(text, exc)]
        builder = _RuleBuilder(self, name, text)
        rule = builder.transform(tree)
        return (None, builder.problems) if builder.problems else (rule, [])

    # --- errors ---------------------------------------------------------------------------

    def _syntax_problem(self, text: str, exc: UnexpectedInput) -> RuleProblem:
        if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
            token = exc.token
            line, column, word = token.line, token.column, str(token.value)
            expected = set(exc.accepts or exc.expected)
        elif isinstance(exc, UnexpectedCharacters):
            line, column = exc.line, exc.column
            word = _word_at(text, exc.pos_in_stream)
            expected = set(exc.allowed or ())
        else:  # the rule ended too early
            line, column = _end_of(text)
            word = ""
            expected = set(getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ())
        words = self._expected_words(expected)
        found = f"unexpected {word!r}" if word else "the rule ends too early"
        return RuleProblem(line, column, "syntax", found, words, self._suggest(word, expected))

    def _expected_words(self, expected: set[str]) -> str | None:
        names = set(expected)
        if "REGION" in names and "ANY_REGION" in names:
            names -= {"ANY_REGION"}
            region_words = "a region: " + ", ".join(self.catalog.region_names()) + " or 'any region' / '任一区域'"
        else:
            region_words = _EXPECTED["REGION"] + ": " + ", ".join(self.catalog.region_names())
        if names - _OPTIONAL:
            names -= _OPTIONAL
        described = []
        for terminal, words in _EXPECTED.items():
            if terminal in names:
                words = region_words if terminal == "REGION" else words
                if words not in described:
                    described.append(words)
        described += sorted(name for name in names if name not in _EXPECTED and name not in _OPTIONAL)
        return " or ".join(described) if described else None

    def _suggest(self, word: str, expected: set[str]) -> str | None:
        if not word:
            return None
        vocabulary: list[str] = []
        for terminal in expected:
            vocabulary += VOCABULARY.get(terminal, ())
            if terminal == "METRIC":
                vocabulary += self._metric_spellings
            if terminal == "REGION":
                vocabulary += self._region_spellings
        return _closest(word, vocabulary)

    # --- name lookups for the builder ---------------------------------------------------------

    def metric_name(self, spelling: str) -> str | None:
        return self._metrics.get(alias_key(spelling))

    def region_name(self, spelling: str) -> str | None:
        return self._regions.get(alias_key(spelling))


def _closest(word: str, vocabulary: list[str]) -> str | None:
    by_key = {alias_key(spelling): spelling for spelling in vocabulary}
    key = alias_key(word)
    # Short (often Chinese) names differ by one character in half their length: 消量 / 销量.
    found = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.5 if len(key) <= 3 else 0.6)
    return by_key[found[0]] if found else None


def _word_at(text: str, pos: int) -> str:
    match = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*|[^\sA-Za-z0-9_]{1,8}|\S").match(text, pos)
    return match.group() if match else ""


def _end_of(text: str) -> tuple[int, int]:
    body = text.rstrip()
    lines = body.split("\n")
    return len(lines), len(lines[-1]) + 1


@dataclass(frozen=True)
class _Name:
    name: str | None  # canonical; None when unknown (a problem was recorded)
    token: Token


@dataclass(frozen=True)
class _Threshold:
    op: Literal["above", "below"]
    value: float
    percent: bool
    token: Token


_INVALID = Comparison("", "", Threshold("above", 0.0))  # stands in for a comparison with problems


class _RuleBuilder(Transformer[Token, Any]):
    """Parse tree -> Rule, recording unknown names and impossible values as problems."""

    def __init__(self, parser: RuleParser, name: str, text: str) -> None:
        super().__init__()
        self.parser, self.name, self.text = parser, name, text
        self.problems: list[RuleProblem] = []

    def _problem(self, token: Token, kind: ProblemKind, message: str, expected: str | None = None,
                 suggestion: str | None = None) -> None:
        self.problems.append(RuleProblem(token.line or 1, token.column or 1, kind, message, expected, suggestion))

    def start(self, children: list[Any]) -> Rule:
        condition, *rest = children
        for_seconds = next((item for item in rest if isinstance(item, int)), 0)
        severity = next(item for item in rest if isinstance(item, str))
        scope = scope_of(condition) if not self.problems else ANY_REGION
        return Rule(self.name, condition, for_seconds, severity, scope, self.text)  # type: ignore[arg-type]

    def or_expr(self, children: list[Expr]) -> Or:
        return Or(tuple(p for child in children for p in (child.parts if isinstance(child, Or) else (child,))))

    def and_expr(self, children: list[Expr]) -> And:
        return And(tuple(p for child in children for p in (child.parts if isinstance(child, And) else (child,))))

    def metric_ref(self, children: list[Token]) -> _Name:
        token = children[0]
        name = self.parser.metric_name(token.value) if token.type == "METRIC" else None
        if name is None:
            self._problem(token, "unknown_metric", f"unknown metric {token.value!r}", "a metric name",
                          _closest(token.value, self.parser._metric_spellings))
        return _Name(name, token)

    def region_ref(self, children: list[Token]) -> _Name:
        token = children[0]
        if token.type == "ANY_REGION":
            return _Name(ANY_REGION, token)
        name = self.parser.region_name(token.value) if token.type == "REGION" else None
        if name is None:
            self._problem(token, "unknown_region", f"unknown region {token.value!r}", "a region",
                          _closest(token.value, self.parser._region_spellings))
        return _Name(name, token)

    def comparison_en(self, children: list[Any]) -> Comparison:
        metric, region, test = children
        return self._comparison(metric, region, test)

    def comparison_zh(self, children: list[Any]) -> Comparison:
        region, metric, test = children
        return self._comparison(metric, region, test)

    def _comparison(self, metric: _Name, region: _Name, test: Change | _Threshold | None) -> Comparison:
        if isinstance(test, _Threshold):
            is_ratio = metric.name is not None and isinstance(self.parser.catalog.metric(metric.name), RatioMetric)
            if test.percent and metric.name is not None and not is_ratio:
                self._problem(test.token, "invalid",
                              f"a threshold in % fits a ratio metric only, and {metric.name} is not one")
            test = Threshold(test.op, test.value / 100 if test.percent else test.value)
        if metric.name is None or region.name is None or test is None:
            return _INVALID
        return Comparison(metric.name, region.name, test)

    def change(self, children: list[Any]) -> Change | None:
        baseline = next(c for c in children if isinstance(c, Token) and c.type == "BASELINE")
        direction = next(c for c in children if isinstance(c, Token) and c.type == "DIRECTION")
        percent, token = next(c for c in children if isinstance(c, tuple))
        down = alias_key(direction.value) not in _UP
        if down and percent >= 100:
            self._problem(token, "invalid", f"a drop of more than {percent:g}% can never happen",
                          "a percent below 100")
            return None
        period = "week" if alias_key(baseline.value)[0] in "w周" else "day"
        return Change("down" if down else "up", percent, period)

    def threshold(self, children: list[Token]) -> _Threshold:
        op, number, *pct = children
        return _Threshold("above" if op.type == "ABOVE" else "below", float(number.value), bool(pct), number)

    def percent(self, children: list[Token]) -> tuple[float, Token]:
        return float(children[0].value), children[0]

    def duration(self, children: list[Token]) -> int:
        number, unit = children
        key = alias_key(unit.value)
        key = key if key in _UNIT_SECONDS or len(key) == 1 else key.rstrip("s")
        return round(float(number.value) * _UNIT_SECONDS[key])

    def severity(self, children: list[Token]) -> str:
        return _SEVERITY[children[0].value.casefold()]


_PARSERS: dict[str, RuleParser] = {}


def parser_for(catalog: MetricCatalog) -> RuleParser:
    """The (cached) parser of `catalog`."""
    key = catalog.model_dump_json()
    if key not in _PARSERS:
        if len(_PARSERS) > 16:
            _PARSERS.clear()
        _PARSERS[key] = RuleParser(catalog)
    return _PARSERS[key]


def parse_rule(text: str, catalog: MetricCatalog, name: str = "rule") -> Rule:
    """Parse one rule; RuleError (with line, column, expected, suggestion) when it is not valid."""
    return parser_for(catalog).parse(text, name)


# --- files --------------------------------------------------------------------------------

def load_metrics(path: Path = DEFAULT_METRICS) -> MetricCatalog:
    """The metric catalogue; PolicyError when it does not validate or an alias is a keyword."""
    text = path.read_text(encoding="utf-8")
    catalog = parse_policy(text, MetricCatalog, str(path))
    try:
        parser_for(catalog)
    except ValueError as exc:
        raise PolicyError(str(path), 1, 1, f"metrics: {exc}") from exc
    return catalog


def load_rules(path: Path = DEFAULT_ALERT_RULES, metrics: MetricCatalog | None = None) -> RuleSet:
    """Every rule of a rules file; RulesFileError listing all problems (each at its line and
    column in the file) when any rule is not valid."""
    catalog = metrics if metrics is not None else load_metrics()
    return parse_rules(path.read_text(encoding="utf-8"), catalog, str(path))


def parse_rules(text: str, catalog: MetricCatalog, path: str = "<text>") -> RuleSet:
    rules, errors = _check_rules(text, catalog, path)
    if errors:
        raise RulesFileError(errors)
    return RuleSet(tuple(rules), catalog)


def check_rules_file(path: Path = DEFAULT_ALERT_RULES, metrics_path: Path = DEFAULT_METRICS) -> list[str]:
    """Every problem of a rules file (and of the catalogue it needs) as `file:line:col: message`;
    empty when the file is good."""
    try:
        catalog = load_metrics(metrics_path)
        load_rules(path, catalog)
    except RulesFileError as exc:
        return [str(error) for error in exc.errors]
    except PolicyError as exc:
        return [str(exc)]
    except OSError as exc:
        return [f"{exc.filename}: {exc.strerror}"]
    return []


def _check_rules(text: str, catalog: MetricCatalog, path: str) -> tuple[list[Rule], list[PolicyError]]:
    try:
        root, data = read_yaml(text, path)
    except PolicyError as exc:
        return [], [exc]
    errors: list[PolicyError] = []

    def validation_errors(exc: ValidationError, prefix: tuple[int | str, ...]) -> None:
        for error in exc.errors():
            loc = (*prefix, *error["loc"])
            line, column = yaml_position(root, loc)
            where = ".".join(str(part) for part in loc) or "(top level)"
            errors.append(PolicyError(path, line, column, f"{where}: {error['msg']}"))

    data = {} if data is None else data
    entries = data.get("rules") if isinstance(data, dict) else None
    try:  # everything but the entries themselves
        outline = {**data, "rules": []} if isinstance(data, dict) and isinstance(entries, list) else data
        RulesFile.model_validate(outline)
    except ValidationError as exc:
        validation_errors(exc, ())
    parser = parser_for(catalog)
    rules: list[Rule] = []
    first_line: dict[str, int] = {}
    for index, raw in enumerate(entries if isinstance(entries, list) else []):
        try:
            entry = RuleEntry.model_validate(raw)
        except ValidationError as exc:
            validation_errors(exc, ("rules", index))
            continue
        name_line, name_column = yaml_position(root, ("rules", index, "name"))
        if entry.name in first_line:
            errors.append(PolicyError(path, name_line, name_column, f"rules.{index}.name: duplicate rule name "
                                      f"{entry.name!r} (first at line {first_line[entry.name]})"))
        first_line.setdefault(entry.name, name_line)
        rule, problems = parser.check(entry.rule, entry.name)
        node = yaml_node(root, ("rules", index, "rule"))
        for problem in problems:
            line, column = _in_scalar(text, node, problem.line, problem.column)
            errors.append(PolicyError(path, line, column, f"rules.{index}.rule: {problem.describe()}"))
        if rule is not None:
            rules.append(rule)
    return rules, errors


def _in_scalar(text: str, node: yaml.Node | None, line: int, column: int) -> tuple[int, int]:
    """File position of (line, column) of a scalar's value. Exact for single-line plain and
    quoted scalars (quotes and escapes counted); the scalar's start otherwise."""
    if node is None:
        return 1, 1
    start, end = node.start_mark, node.end_mark
    if line != 1 or start.line != end.line or getattr(node, "style", None) not in (None, "'", '"'):
        return start.line + 1, start.column + 1
    raw = text[start.index:end.index]
    offset = _raw_offset(raw, node.style, column - 1)
    return start.line + 1, start.column + 1 + offset


def _raw_offset(raw: str, style: str | None, value_offset: int) -> int:
    """Characters of source before the `value_offset`-th character of the scalar's value."""
    if style is None:
        return value_offset
    i = 1  # the opening quote
    for _ in range(value_offset):
        if i >= len(raw):
            break
        if style == "'":
            i += 2 if raw.startswith("''", i) else 1
        elif raw[i] == "\\" and i + 1 < len(raw):
            i += {"x": 4, "u": 6, "U": 10}.get(raw[i + 1], 2)
        else:
            i += 1
    return i
