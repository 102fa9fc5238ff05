from datetime import datetime, timezone

import pytest

from config.policy_files import PolicyError, parse_policy
from models.alerts import SEVERITIES, AlertPolicy
from streams.alert_lifecycle import ALERT_POLICY_FILE, load_alert_policy

VALID = """red:
  respond_within_minutes: 15
  description: {en: Act now, zh: 立即行动}
orange:
  respond_within_minutes: 30
  description: {en: Respond, zh: 响应}
yellow:
  respond_within_minutes: 60
  description: {en: Review, zh: 查看}
blue:
  respond_within_minutes: 120
  requires_note: true
  description: {en: Root cause, zh: 根因}
"""


def test_the_shipped_policy_gives_every_severity_its_sla_in_english_and_chinese() -> None:
    policy = load_alert_policy()
    minutes = {severity: policy.sla(severity).respond_within_minutes for severity in SEVERITIES}
    assert minutes == {"red": 15, "orange": 30, "yellow": 60, "blue": 120}
    assert all(policy.sla(s).description.en and policy.sla(s).description.zh for s in SEVERITIES)
    assert policy.blue.requires_note and not policy.red.requires_note
    assert ALERT_POLICY_FILE.name == "alert_policy.yaml"


def test_respond_by_adds_the_severity_sla() -> None:
    policy = parse_policy(VALID, AlertPolicy)
    at = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    assert policy.respond_by("red", at) == datetime(2026, 11, 27, 2, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "where", "words"), [
    (VALID.replace("respond_within_minutes: 30", "respond_within_minutes: soon"), (5, 27), "orange.respond_within"),
    (VALID.replace("respond_within_minutes: 60", "respond_within_minutes: 0"), (8, 27), "greater than 0"),
    (VALID.replace("  requires_note: true\n", "  requires_note: true\n  escalate_to: boss\n"), (13, 16),
     "blue.escalate_to: Extra inputs"),
    (VALID.replace("{en: Respond, zh: 响应}", "{en: Respond}"), (6, 16), "orange.description.zh"),
    (VALID.replace("respond_within_minutes: 30", "respond_within_minutes: 10"), (5, 3), "shorter than red"),
    (VALID.split("blue:")[0], (1, 1), "blue"),
    (VALID.replace("orange:", "orange: [", 1), (6, 14), "not valid YAML"),
])
def test_an_invalid_policy_is_refused_with_line_and_column(text: str, where: tuple[int, int], words: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(text, AlertPolicy, "alert_policy.yaml")
    assert (error.value.line, error.value.column) == where, str(error.value)
    assert words in str(error.value)
    assert str(error.value).startswith(f"alert_policy.yaml:{where[0]}:{where[1]}: ")


def test_a_broken_file_is_refused_by_the_loader(tmp_path) -> None:
    path = tmp_path / "alert_policy.yaml"
    path.write_text(VALID.replace("respond_within_minutes: 15", "respond_within_minutes: -1"), encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_alert_policy(path)
    assert (error.value.line, error.value.column) == (2, 27)
