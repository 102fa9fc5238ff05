"""`leadflow bench replay`: events per second of an in-process replay of a generated world, on
one core: reading and validating the file, then every decision the worker would make (identity,
scoring, routing, SLA timers, regional metrics, alert rules). Loading the policy files (once
per replay) and writing the records to chdb (in ClickHouse's own threads) are timed apart.

The interpreter matters: on the project's test machine, Debian's CPython 3.11 (built with
profile-guided optimisation, as Ubuntu's and the official container images are) ran this 14%
faster than pyenv's default source build (no such optimisation, a shared libpython). The JSON
says which CPython ran it."""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from config.settings import POLICY_DIR
from sinks.personal_data import PersonalData
from streams.embedded.replay import Replay
from streams.embedded.session import EventsFile, load_policies, open_store, run as run_replay, save
from streams.embedded.world import generate_world, write_world

_TARGET_EVENTS_PER_S = 50_000


def run(events: int = 40_000, seed: int = 7) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="leadflow-bench-replay-"))
    try:
        files = write_world(generate_world(seed=seed, events=events), folder)
        loading = time.perf_counter()
        policies = load_policies(POLICY_DIR, files["roster"], files["deals"], files["responses"])
        engine = Replay(policies)  # reads and compiles the policy files: part of loading
        started = time.perf_counter()
        parsed = EventsFile.read(files["events"])
        read = time.perf_counter()
        results = run_replay(engine, parsed)
        done = time.perf_counter()
        backend = open_store(folder / "store")
        written = save(results, parsed, policies, backend, PersonalData(None))
        stored = time.perf_counter()
        backend.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    count = len(parsed.lines)
    rows = sum(written.values())
    return {
        "events": count,
        "events_per_s": int(count / (done - started)),
        "read_events_per_s": int(count / (read - started)),
        "decide_events_per_s": int(count / (done - read)),
        "policies_load_s": round(started - loading, 3),  # once per replay, not per event
        "routed": len(results.routed),
        "alerts": len(results.alerts),
        "rows_stored": rows,
        "store_rows_per_s": int(rows / (stored - done)),
        "target_events_per_s": _TARGET_EVENTS_PER_S,
        "python": f"{platform.python_implementation()} {platform.python_version()} ({platform.python_build()[1]})",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
