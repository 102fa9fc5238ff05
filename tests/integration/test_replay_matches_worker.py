"""The same generated events through the Kafka worker (real broker, real server) and through the
in-process replay: the same leads go to the same reps for the same reasons, the same alerts fire.

The worker decides on the wall clock and the replay on the event clock, so the events are a
slice of the generated day moved to end just now, the reps work around the clock, and every rep
accepts within a minute in the replay (the worker's SLAs run on the wall clock and do not come
due during the test). Routing ignores the team's running state (see `order_free_policies`).
Everything else — identities, scores, matching, capability from the deal history (read by the
worker from ClickHouse), metrics and rules — is the real thing on both sides.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from models.alerts import Alert
from models.events import PosRow
from models.records import RoutedLead
from sinks.backends import open_backend
from sinks.rows import record_row
from sinks.tables import REP_OUTCOMES
from streams.embedded.replay import Policies, Replay
from streams.embedded.session import EventsFile
from streams.embedded.world import World, generate_world
from tests.integration.conftest import poll_until
from tests.integration.harness import (
    edited_policies, leadflow, read_all, running_worker, worker_environment,
)

SLICE = timedelta(minutes=75)  # rules judge whole 1-hour windows: more than an hour of data
# The slice is produced ~250x faster than it happened; the worker's partitions may be that many
# seconds of event time apart, and no event should be dropped as late on either side.
LATENESS_SECONDS = 900


def live_slice(path: Path) -> tuple[list[str], World]:
    """The generated world's events of the 75 minutes up to and including the white-paper
    buyer's download, moved to end a minute ago; written as an events file."""
    world = generate_world(seed=7)
    end = world.stories.white_paper_buyer.download_at + timedelta(seconds=30)
    shift = datetime.now(timezone.utc) - timedelta(minutes=1) - end
    lines = []
    for source, payload in world.events:
        ts = datetime.fromisoformat(payload["ts"])
        if end - SLICE <= ts <= end:
            lines.append(json.dumps({"source": source, **payload, "ts": (ts + shift).isoformat()}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines, world


def round_the_clock(world: World, path: Path) -> Path:
    reps = [rep.model_dump(mode="json", exclude={"hours"}, exclude_none=True) for rep in world.reps]
    path.write_text(yaml.safe_dump({"reps": reps}, allow_unicode=True), encoding="utf-8")
    return path


def order_free_policies(tmp_path: Path, events: EventsFile) -> Path:
    """The shipped policies, with absolute rules the slice crosses in some regions and not others,
    and without the weights of the team's running state (load, fair share): the worker handles
    leads of different partitions in whatever order they arrive, so two leads routed within
    milliseconds of each other may see each other's assignment in either order."""
    sales: dict[str, float] = {}
    for line in events.lines:
        if isinstance(line.record, PosRow):
            sales[line.record.region] = sales.get(line.record.region, 0.0) + line.record.amount
    threshold = round(0.6 * max(sales.values()))  # an hour of the busiest regions is above it
    rules = (f'  - name: busy-stores\n    rule: "when sales in any region above {threshold} then yellow"\n'
             f'  - name: busy-stores-zh\n    rule: "当 任一区域 销量 高于 {threshold} 时 触发 蓝色预警"\n')
    policies = edited_policies(tmp_path, "alert_rules.yaml", "\nrules:\n", "\nrules:\n" + rules)
    for pack in (policies / "packs").glob("*.yaml"):
        text = pack.read_text(encoding="utf-8")
        pack.write_text(re.sub(r"(?m)^(  (?:load|fairness)): [0-9.]+$", r"\1: 0.0", text), encoding="utf-8")
    return policies


def decision(routed: RoutedLead) -> tuple[object, ...]:
    return routed.routing_id, routed.lead_id, routed.rep_id, routed.trigger, tuple(routed.reasons)


def test_the_worker_and_the_replay_make_the_same_decisions(
        kafka_bootstrap: str, clickhouse_server_url: str, run_id: str, tmp_path: Path) -> None:
    lines, world = live_slice(tmp_path / "events.jsonl")
    events = EventsFile.read(tmp_path / "events.jsonl")
    assert not events.bad and len(events.lines) == len(lines) > 100
    roster = round_the_clock(world, tmp_path / "roster.yaml")
    policies = order_free_policies(tmp_path, events)
    deals = world.deals

    team = {rep.id for rep in world.reps}
    replayed = Replay(Policies(policies, roster, deals, dict.fromkeys(team, 1.0)), LATENESS_SECONDS).run(events.lines)
    expected_routed = {decision(r) for r in replayed.routed if r.attempt == 1}
    expected_alerts = {(a.rule, a.region) for a in replayed.alerts if a.state == "firing"}
    assert len(expected_routed) >= 3 and expected_alerts  # the slice exercises both stages
    assert any(r.rep_id in world.stories.white_paper_buyer.expected_reps for r in replayed.routed)

    env = worker_environment(kafka_bootstrap, clickhouse_server_url, run_id, tmp_path / "data") | {
        "LEADFLOW_ROSTER_FILE": str(roster), "LEADFLOW_POLICY_DIR": str(policies),
        "LEADFLOW_ALERT_LATENESS_SECONDS": str(LATENESS_SECONDS)}
    leadflow(env, "migrate")  # the deal history is in ClickHouse before the worker starts, as in production
    backend = open_backend(env["LEADFLOW_CLICKHOUSE_URL"])
    try:
        backend.insert(REP_OUTCOMES.name, REP_OUTCOMES.column_names, [record_row(deal)[1] for deal in deals])
    finally:
        backend.close()

    prefix = f"{run_id}."
    with running_worker(env, tmp_path):
        leadflow(env, "produce", str(tmp_path / "events.jsonl"), "--rate", "200")
        routed = poll_until(
            lambda: {decision(RoutedLead.model_validate_json(value))
                     for value in read_all(kafka_bootstrap, prefix + "leads.routed")},
            lambda seen: len(seen) >= len(expected_routed), 120, "the worker's routings")
        assert sorted(routed - expected_routed) == sorted(expected_routed - routed) == []
        fired = poll_until(
            lambda: {(a.rule, a.region) for a in map(Alert.model_validate_json, read_all(kafka_bootstrap, prefix + "alerts"))
                     if a.state == "firing"},
            lambda seen: seen >= expected_alerts, 60, "the replay's alerts from the worker")
        assert fired == expected_alerts
