from pathlib import Path

import pytest

from config.policy_files import PolicyError, load_policy, parse_policy
from models.intent_policy import ContentCatalog, Lexicon, ScoringPolicy
from streams.intent import IntentModel

CONFIG = Path(__file__).resolve().parents[2] / "config"
FILES = {"content_catalog.yaml": ContentCatalog, "lexicon.yaml": Lexicon, "scoring.yaml": ScoringPolicy}


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_default_policy_loads(name: str) -> None:
    load_policy(CONFIG / name, FILES[name])


def test_the_catalogue_knows_the_high_voltage_connector_white_paper_and_every_industry() -> None:
    catalog = load_policy(CONFIG / "content_catalog.yaml", ContentCatalog)
    paper = next(entry for entry in catalog.entries if entry.id == "wp-hv-connector")
    assert (paper.product, paper.stage, paper.industries) == ("hv-connector", "technical_validation", ["automotive"])
    assert "hv-connector" in (paper.url or "")
    industries = {industry for entry in catalog.entries for industry in entry.industries}
    assert industries == {"automotive", "manufacturing", "medical", "education", "retail"}
    assert len(catalog.entries) >= 15


def test_the_scoring_policy_names_both_required_triggers() -> None:
    scoring = load_policy(CONFIG / "scoring.yaml", ScoringPolicy)
    names = [trigger.name for trigger in scoring.triggers]
    assert {"deep-technical-read", "pricing-and-contact"} <= set(names)


def test_the_model_loads_from_the_config_package_by_default() -> None:
    assert IntentModel.from_config().scoring.threshold == 70


CATALOG = """entries:
  - id: wp-x
    title: X white paper
    product: x
    stage: {stage}
    weight: {weight}
"""


def test_an_unknown_stage_is_refused_with_its_line_and_column() -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(CATALOG.format(stage="evaluation", weight=1), ContentCatalog, "content_catalog.yaml")
    assert (error.value.line, error.value.column) == (5, 12)
    assert str(error.value).startswith("content_catalog.yaml:5:12: entries.0.stage:")


def test_a_negative_weight_is_refused_with_its_line_and_column() -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(CATALOG.format(stage="purchase", weight=-2), ContentCatalog)
    assert (error.value.line, error.value.column) == (6, 13)
    assert "greater than or equal to 0" in error.value.message


def test_an_unknown_key_and_a_bad_regex_are_refused() -> None:
    with pytest.raises(PolicyError, match="entries.0.colour"):
        parse_policy(CATALOG.format(stage="purchase", weight=1) + "    colour: red\n", ContentCatalog)
    with pytest.raises(PolicyError, match="not a valid regular expression") as error:
        parse_policy(CATALOG.format(stage="purchase", weight=1) + "    url_regex: '(unclosed'\n", ContentCatalog)
    assert error.value.line == 7


def test_a_phrase_under_two_signals_is_refused() -> None:
    text = """signals:
  - {name: price, label: price, phrases: [Quote], weight: 1}
  - {name: offer, label: offer, phrases: [quote], weight: 1}
"""
    with pytest.raises(PolicyError, match="phrases listed under two signals: quote"):
        parse_policy(text, Lexicon)


def _scoring(tmp_path: Path, replace: tuple[str, str]) -> Path:
    for name in FILES:
        text = (CONFIG / name).read_text(encoding="utf-8")
        if name == "scoring.yaml":
            assert replace[0] in text
            text = text.replace(*replace)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_rearm_threshold_above_the_routing_threshold_is_refused(tmp_path: Path) -> None:
    folder = _scoring(tmp_path, ("rearm_below: 40", "rearm_below: 75"))
    with pytest.raises(PolicyError, match="rearm_below: Value error, must be below threshold") as error:
        IntentModel.from_config(folder)
    assert error.value.column == 14


def test_a_trigger_on_a_signal_missing_from_the_lexicon_is_refused_where_it_is_named(tmp_path: Path) -> None:
    folder = _scoring(tmp_path, ("signals: [price, budget]", "signals: [price, bugdet]"))
    with pytest.raises(PolicyError, match="'bugdet' is not in lexicon.yaml") as error:
        IntentModel.from_config(folder)
    line = (folder / "scoring.yaml").read_text(encoding="utf-8").splitlines()[error.value.line - 1]
    assert line[error.value.column - 1:].startswith("bugdet")
