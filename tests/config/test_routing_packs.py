from pathlib import Path

import pytest

from config.policy_files import PolicyError, load_roster, parse_policy
from config.settings import DEFAULT_ROSTER
from models.reps import REGIONS, SKILL_DIMENSIONS, Roster
from models.routing_pack import ContentLibrary, IndustryPack
from streams.matching import PACKS_DIR, load_content_packs, load_packs

PACK = """name: custom
industries: [retail]
weights: {win_rate: 0.5, load: 0.5}
required_certifications:
  purchase: [iso9001]
"""


def test_the_shipped_packs_cover_the_main_industries_with_sla_and_overflow() -> None:
    packs = load_packs()
    assert {"manufacturing", "medical", "education", "automotive", "default"} <= set(packs.by_name())
    assert packs.for_industry("medical").certifications_for("awareness") == ("iso13485",)
    assert packs.for_industry("automotive").certifications_for("purchase") == ("iatf16949",)
    assert packs.for_industry("automotive").certifications_for("consideration") == ()
    assert packs.for_industry("aerospace").name == "default"
    for pack in packs.packs:
        assert (pack.sla_minutes.p1, pack.sla_minutes.p2, pack.sla_minutes.p3) == (5, 30, 240)
        assert pack.overflow.startswith("overflow")


def test_the_shipped_roster_has_a_full_team_across_all_regions() -> None:
    roster = load_roster(DEFAULT_ROSTER)
    assert len(roster.reps) == 60 and len(SKILL_DIMENSIONS) >= 27
    assert {region for rep in roster.reps for region in rep.regions} == set(REGIONS)
    assert any(not rep.regions for rep in roster.reps)  # national key-account reps
    assert {rep.hours.tz for rep in roster.reps} > {"Asia/Shanghai"}


def test_the_shipped_content_packs_load() -> None:
    assert ("automotive", "technical_validation") in load_content_packs().lookup()


def test_an_unknown_skill_name_is_refused_with_its_position() -> None:
    text = "reps:\n  - id: rep-1\n    name: A\n    industries: {medical: 0.8, mining: 0.5}\n"
    with pytest.raises(PolicyError, match="unknown industry 'mining'") as error:
        parse_policy(text, Roster, "team.yaml")
    assert (error.value.line, error.value.column) == (4, 40)


def test_a_negative_capacity_is_refused_with_its_position() -> None:
    with pytest.raises(PolicyError, match="capacity") as error:
        parse_policy("reps:\n  - id: rep-1\n    name: A\n    capacity: -1\n", Roster)
    assert (error.value.line, error.value.column) == (4, 15)


def test_bad_working_hours_and_time_zones_are_refused() -> None:
    with pytest.raises(PolicyError, match="unknown IANA time zone") as error:
        parse_policy("reps:\n  - id: rep-1\n    name: A\n    hours: {tz: Mars/Olympus}\n", Roster)
    assert error.value.line == 4
    with pytest.raises(PolicyError, match="hours"):
        parse_policy("reps:\n  - id: rep-1\n    name: A\n    hours: {hours: '9-18'}\n", Roster)


def test_an_unknown_certification_in_a_pack_is_refused_with_its_position() -> None:
    with pytest.raises(PolicyError, match="unknown certification 'iso9001'") as error:
        parse_policy(PACK, IndustryPack, "custom.yaml")
    assert (error.value.line, error.value.column) == (5, 14)


def test_a_pack_set_needs_a_default_pack(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(PACK.replace("iso9001", "gmp"), encoding="utf-8")
    with pytest.raises(PolicyError, match="'default' is required"):
        load_packs(tmp_path)
    (tmp_path / "default.yaml").write_text((PACKS_DIR / "default.yaml").read_text(), encoding="utf-8")
    (tmp_path / "second.yaml").write_text(PACK.replace("custom", "second").replace("iso9001", "gmp"))
    with pytest.raises(PolicyError, match="more than one pack"):
        load_packs(tmp_path)


def test_two_content_packs_for_one_slot_are_refused() -> None:
    entry = "  - {id: x, industry: medical, stage: purchase, talk_track: t}\n"
    with pytest.raises(PolicyError, match="more than one content pack"):
        parse_policy("packs:\n" + entry + entry, ContentLibrary)
