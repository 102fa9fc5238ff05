"""`leadflow demo` end to end in a fresh folder: the world is generated, replayed and stored in
embedded ClickHouse (chdb), and every planted story is caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sinks.backends import ChdbBackend
from streams.embedded.world import read_stories

ROOT = Path(__file__).parents[2]


def test_the_demo_stores_every_record_and_catches_every_planted_story(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    env = {**os.environ, "COLUMNS": "160"}
    done = subprocess.run([sys.executable, "-m", "streams.cli", "demo", "--dir", str(folder)], cwd=tmp_path,
                          env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for story in ("white-paper-buyer", "competitor-push", "lazy-rep"):
        assert any(story in line and " yes " in line for line in done.stdout.splitlines()), done.stdout[-3000:]
    assert f"leadflow query --store {folder / 'clickhouse'}" in done.stdout.replace("\n", "")

    events = [json.loads(line) for line in (folder / "world" / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    sources = Counter(event["source"] for event in events)
    stories = read_stories(folder / "world" / "stories.json")
    store = ChdbBackend(str(folder / "clickhouse"), "leadflow")
    try:
        def count(sql: str) -> int:
            return store.query(sql)[0][0]

        for source, table in (("web", "events_web"), ("call", "events_calls"), ("pos", "events_pos"),
                              ("signal", "events_signals")):
            assert count(f"SELECT count() FROM leadflow.{table} FINAL") == sources[source], table
        lead_events = sources["web"] + sources["call"]  # every web and call event names a person
        assert count("SELECT count() FROM leadflow.lead_scores FINAL") == lead_events
        assert count("SELECT count() FROM leadflow.leads_routed FINAL") > 50
        assert count(f"SELECT count() FROM leadflow.sla_breaches FINAL "
                     f"WHERE rep_id = '{stories.lazy_rep.rep_id}'") == 1
        push = stories.competitor_push
        assert count(f"SELECT count() FROM leadflow.alerts FINAL WHERE state = 'firing' "
                     f"AND region = '{push.region}' AND severity = '{push.severity}'") == len(push.rules)
        assert count("SELECT count() FROM leadflow.region_metrics FINAL") > 1000
        assert count("SELECT count() FROM leadflow.rep_outcomes FINAL WHERE kind IN ('won', 'lost')") > 1000
        assert count("SELECT count() FROM leadflow.routing_daily") > 0  # the board roll-ups are fed too
    finally:
        store.close()
