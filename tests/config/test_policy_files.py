from pathlib import Path

import pytest

from config.policy_files import PolicyError, load_roster, parse_policy
from config.settings import DEFAULT_ROSTER
from models.reps import Roster


def test_the_shipped_roster_is_valid() -> None:
    roster = load_roster(DEFAULT_ROSTER)
    assert len(roster.active()) >= 10
    assert len({rep.id for rep in roster.reps}) == len(roster.reps)


def test_a_validation_error_points_at_line_and_column_of_the_bad_value() -> None:
    text = "reps:\n  - id: rep-1\n    name: A\n  - id: rep-2\n    name: B\n    active: maybe\n"
    with pytest.raises(PolicyError) as error:
        parse_policy(text, Roster, "team.yaml")
    assert (error.value.line, error.value.column) == (6, 13)
    assert str(error.value).startswith("team.yaml:6:13: reps.1.active:")


def test_a_missing_field_points_at_its_parent_entry() -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy("reps:\n  - id: rep-1\n", Roster)
    assert (error.value.line, error.value.column) == (2, 5)
    assert "name" in error.value.message


def test_broken_yaml_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text("reps:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML") as error:
        load_roster(path)
    assert error.value.line == 3
