"""The in-process replay: the worker's decisions on the event clock, bad lines skipped and
counted, and what another policy set would change."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from config.policy_files import load_roster
from streams.embedded.events_file import BadLine, Line, parse_line
from streams.embedded.replay import Policies, Replay
from streams.embedded.session import EventsFile
from streams.embedded.summary import compare, summarise
from tests.factories import pos
from tests.integration.harness import POLICY_DIR, TEAM, edited_policies, white_paper_reads

START = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, a Tuesday


def write_events(path: Path, buyers: int, extra: list[str] = ()) -> Path:
    """White-paper buyers a minute apart, file order reversed (replay sorts by event time)."""
    lines = [json.dumps({"source": source, **payload})
             for i in range(buyers) for source, payload in white_paper_reads(f"buyer-{i}", START + timedelta(minutes=i))]
    path.write_text("\n".join([*reversed(lines), *extra]) + "\n", encoding="utf-8")
    return path


def test_a_bad_line_is_reported_with_its_number_and_skipped(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.jsonl", 1, ["{oops", json.dumps({"source": "fax"}),
                                                       json.dumps({"source": "pos", **pos(amount="lots")})])
    events = EventsFile.read(path)
    assert [(b.number, b.reason) for b in events.bad] == [(5, "malformed_json"), (6, "invalid_value"),
                                                         (7, "wrong_type")]
    assert [line.record.ts for line in events.lines] == sorted(line.record.ts for line in events.lines)
    letters = events.dead_letters(START)
    assert [(l.source_topic, l.offset, l.raw) for l in letters][0] == ("file:events.jsonl", 5, b"{oops")
    summary = summarise(Replay(Policies(POLICY_DIR, TEAM)).run(events.lines), events.bad)
    assert summary.bad_lines == 3 and summary.events == {"web": 4}


def test_parse_line_keeps_outcomes_and_refuses_unknown_sources() -> None:
    outcome = parse_line(1, json.dumps({"source": "outcome", "outcome_id": "o", "lead_id": "l", "rep_id": "r",
                                        "kind": "accepted", "ts": START.isoformat()}))
    assert isinstance(outcome, Line) and outcome.source == "outcome"
    assert isinstance(parse_line(2, "[1, 2]"), BadLine)


def test_the_white_paper_buyer_is_routed_at_event_time_and_an_unaccepted_sla_reroutes(tmp_path: Path) -> None:
    events = EventsFile.read(write_events(tmp_path / "events.jsonl", 1))
    results = Replay(Policies(POLICY_DIR, TEAM)).run(events.lines)
    first, again = results.routed
    assert (first.trigger, first.rep_id, first.attempt) == ("deep-technical-read", "auto-star", 1)
    download = events.lines[-1].record
    assert first.routed_at == download.ts  # the replay's clock is the events' time
    # Nobody accepts: at the deadline the breach is recorded and the lead goes to the next rep.
    (breach,) = results.breaches
    assert breach.detected_at == first.sla_deadline and breach.next_rep_id == again.rep_id != first.rep_id
    assert again.attempt == 2 and again.routed_at == first.sla_deadline
    assert len(results.scored) == 4 and results.scored[-1].trigger == "deep-technical-read"
    leads_created = [m for m in results.metrics if m.metric == "leads_created" and m.window == "1m"]
    assert sum(m.value for m in leads_created) == 1


def test_a_rep_who_answers_in_time_stops_the_sla(tmp_path: Path) -> None:
    events = EventsFile.read(write_events(tmp_path / "events.jsonl", 1))
    results = Replay(Policies(POLICY_DIR, TEAM, responses={"auto-star": 2.0})).run(events.lines)
    assert [r.rep_id for r in results.routed] == ["auto-star"] and not results.breaches
    (accepted,) = results.outcomes
    assert accepted.kind == "accepted" and accepted.ts == results.routed[0].routed_at + timedelta(minutes=2)


def test_compare_shows_the_leads_a_changed_weight_sends_elsewhere(tmp_path: Path) -> None:
    events = EventsFile.read(write_events(tmp_path / "events.jsonl", 4))
    team = {rep.id for rep in load_roster(TEAM).reps}
    base = Replay(Policies(POLICY_DIR, TEAM, responses=dict.fromkeys(team, 1.0))).run(events.lines)
    fairer = edited_policies(tmp_path, "packs/automotive.yaml", "fairness: 0.05", "fairness: 0.95")
    other = Replay(Policies(fairer, TEAM, responses=dict.fromkeys(team, 1.0))).run(events.lines)
    diff = compare(base, other)
    assert {r.rep_id for r in base.routed} == {"auto-star"}  # the best match takes every buyer
    assert diff.leads_to_other_reps and all(change["base"] == "auto-star" for change in diff.leads_to_other_reps)
    assert not diff.routed_only_in_base and not diff.routed_only_in_other
    assert compare(base, base).leads_to_other_reps == []


@pytest.mark.parametrize("lateness", [0.0, 120.0])
def test_every_timer_fires_by_the_end_of_the_replay(tmp_path: Path, lateness: float) -> None:
    events = EventsFile.read(write_events(tmp_path / "events.jsonl", 2))
    results = Replay(Policies(POLICY_DIR, TEAM), lateness).run(events.lines)
    last = max(line.record.ts for line in events.lines)
    closed = {m.window_start for m in results.metrics if m.window == "1m"}
    assert last.replace(second=0) in closed  # the last minute is closed and published
    assert all(b.detected_at >= b.deadline for b in results.breaches) and len(results.breaches) >= 2


def test_a_line_opening_with_its_source_reads_as_any_other_line() -> None:
    payload = pos(amount=12.5)
    written = parse_line(1, json.dumps({"source": "pos", **payload}))
    reordered = parse_line(1, json.dumps({**payload, "source": "pos"}))
    assert isinstance(written, Line) and written == reordered
    # The last "source" decides, as in json.loads: a PosRow's fields do not make a web event.
    retagged = parse_line(2, json.dumps({"source": "pos", **payload}).rstrip("}") + ', "source": "web"}')
    assert isinstance(retagged, BadLine) and retagged.reason == "missing_field"
