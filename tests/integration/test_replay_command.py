"""`leadflow generate` then `leadflow replay --compare` as a user runs them: reproducible files,
bad lines reported by number and skipped, the records in embedded ClickHouse, and the difference
one changed weight makes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sinks.backends import ChdbBackend
from tests.integration.harness import edited_policies

ROOT = Path(__file__).parents[2]


def leadflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def test_generate_is_reproducible_and_replay_compares_two_policy_sets(tmp_path: Path) -> None:
    for name in ("a", "b"):
        done = leadflow(tmp_path, "generate", "--out", name, "--seed", "3", "--events", "8000")
        assert done.returncode == 0, done.stderr
    world = tmp_path / "a"
    assert (world / "events.jsonl").read_bytes() == (tmp_path / "b" / "events.jsonl").read_bytes()

    events = world / "events.jsonl"
    good = len(events.read_text(encoding="utf-8").splitlines())
    with events.open("a", encoding="utf-8") as file:
        file.write('{"source": "web", "kind": "page_view"\n{"source": "fax", "ts": 0}\n')
    # Automotive leads weigh measured win rates less and declared skills more.
    other = edited_policies(tmp_path, "packs/automotive.yaml", "win_rate: 0.30", "win_rate: 0.00")
    done = leadflow(tmp_path, "replay", str(events), "--roster", str(world / "roster.yaml"),
                    "--deals", str(world / "deals.jsonl"), "--responses", str(world / "responses.yaml"),
                    "--compare", str(other), "--store", "store", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"events.jsonl:{good + 1}: skipped (malformed_json)" in done.stderr
    assert f"events.jsonl:{good + 2}: skipped (invalid_value)" in done.stderr
    report = json.loads(done.stdout)
    summary, comparison = report["summary"], report["comparison"]
    assert summary["bad_lines"] == 2 and sum(summary["events"].values()) == good
    assert summary["routed"] > 0 and summary["latency_ms"]["p99"] > 0
    assert comparison["leads_to_other_reps"], "a weight that decides automotive routings changed nothing"
    assert all(change["base"] != change["other"] for change in comparison["leads_to_other_reps"])

    store = ChdbBackend(str(tmp_path / "store"), "leadflow")
    try:
        (routed,), = store.query("SELECT count() FROM leadflow.leads_routed FINAL")
        (letters,), = store.query("SELECT count() FROM leadflow.dead_letters FINAL")
    finally:
        store.close()
    assert (routed, letters) == (summary["routed"], 2)
    assert report["rows_stored"]["leads_routed"] == routed
