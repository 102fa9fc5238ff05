"""The alert rule language: parse English / Chinese rules (parser) and evaluate them (evaluate)."""

from streams.rules.parser import (
    RuleError,
    RuleParser,
    RuleProblem,
    RuleSet,
    RulesFileError,
    check_rules_file,
    load_metrics,
    load_rules,
    parse_rule,
    parser_for,
)

__all__ = [
    "RuleError", "RuleParser", "RuleProblem", "RuleSet", "RulesFileError", "check_rules_file",
    "load_metrics", "load_rules", "parse_rule", "parser_for",
]
