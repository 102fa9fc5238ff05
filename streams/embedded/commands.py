"""The embedded commands of the `leadflow` CLI: demo, generate, replay, produce, query."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from config.settings import Settings

DEMO_STORE = Path(".leadflow/demo")
REPLAY_STORE = Path(".leadflow/replay")


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Any]:
    """A rich progress bar on stderr; yields `update(done)`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from rich.console import Console

    from sinks.personal_data import PersonalData
    from streams.embedded.board import show_comparison, show_summary
    from streams.embedded.session import EventsFile, load_policies, open_store, replay, save, to_json
    from streams.embedded.summary import compare, summarise

    events = EventsFile.read(args.file)
    for line in events.bad:
        print(f"{args.file}:{line.number}: skipped ({line.reason}): {line.detail}", file=sys.stderr)
    policies = load_policies(args.policy_dir or settings.policy_dir, args.roster or settings.roster_file,
                             args.deals, args.responses)
    runs = [("base", policies)]
    if args.compare:
        runs.append(("other", load_policies(args.compare, policies.roster_file, args.deals, args.responses)))
    results = {}
    for name, run_policies in runs:
        with progress_bar(f"replay ({name} policies)" if args.compare else "replay", len(events.lines)) as update:
            results[name] = replay(events, run_policies, settings.alert_lateness_seconds, update)
    backend = open_store(args.store)
    try:
        written = save(results["base"], events, policies, backend, PersonalData(settings.pii_hash_key()))
    finally:
        backend.close()
    summary = summarise(results["base"], events.bad)
    comparison = compare(results["base"], results["other"]) if args.compare else None
    if args.json:
        print(to_json({"summary": summary.to_dict(), "rows_stored": written,
                       "comparison": comparison.to_dict() if comparison else None}))
    else:
        console = Console()
        show_summary(summary, console)
        if comparison:
            show_comparison(comparison, console)
        console.print(f"{sum(written.values()):,} rows in {args.store}; query them with "
                      f"`leadflow query --store {args.store} \"SELECT ...\"`")
    return 0


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    from streams.embedded.produce import produce
    from streams.embedded.session import EventsFile

    events = EventsFile.read(args.file)
    for line in events.bad:
        print(f"{args.file}:{line.number}: skipped ({line.reason}): {line.detail}", file=sys.stderr)
    with progress_bar("produce", len(events.lines)) as update:
        sent = produce(settings, events.lines, args.rate, update)
    print(f"sent {sent} events to {settings.kafka_bootstrap}; {len(events.bad)} bad line(s) skipped")
    return 0


def cmd_query(settings: Settings, args: argparse.Namespace) -> int:
    from sinks.backends import open_backend
    from streams.embedded.session import DATABASE

    if not args.store.exists():
        print(f"leadflow: no store at {args.store}; run `leadflow demo` or `leadflow replay` first", file=sys.stderr)
        return 2
    backend = open_backend(f"chdb://{args.store.resolve()}?database={DATABASE}")
    try:
        started = time.perf_counter()
        rows = backend.query(args.sql)
    except Exception as exc:  # chdb raises its own error types for bad SQL
        print(f"leadflow: query failed: {exc}", file=sys.stderr)
        return 2
    finally:
        backend.close()
    for row in rows:
        print("\t".join(str(value) for value in row))
    print(f"{len(rows)} row(s) in {time.perf_counter() - started:.3f} s", file=sys.stderr)
    return 0


def add_commands(commands: Any) -> None:
    """Register the embedded commands on the CLI's subparsers."""
    replay = commands.add_parser(
        "replay", help="run an events file through the pipeline's processors in-process (no Kafka), store every "
        "record in embedded ClickHouse and print a summary; --compare shows what other policies would change")
    replay.add_argument("file", type=Path, metavar="FILE",
                        help='JSON Lines: {"source": "web"|"call"|"pos"|"signal"|"outcome", ...fields}')
    replay.add_argument("--policy-dir", type=Path, help="scoring, catalogue, lexicon, packs, metrics and rules "
                        "(default: LEADFLOW_POLICY_DIR)")
    replay.add_argument("--roster", type=Path, help="rep roster YAML (default: LEADFLOW_ROSTER_FILE)")
    replay.add_argument("--deals", type=Path, help="deal history, JSON Lines of rep outcomes (reps' capability)")
    replay.add_argument("--responses", type=Path,
                        help="YAML rep id -> minutes to accept a routed lead (null: never); default: nobody accepts")
    replay.add_argument("--compare", type=Path, metavar="OTHER_POLICY_DIR",
                        help="also replay under these policies and print the differences")
    replay.add_argument("--store", type=Path, default=REPLAY_STORE, help=f"chdb folder (default {REPLAY_STORE})")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.set_defaults(run=cmd_replay)

    produce = commands.add_parser("produce", help="send an events file to the Kafka topics (LEADFLOW_* settings)")
    produce.add_argument("file", type=Path, metavar="FILE")
    produce.add_argument("--rate", type=float, help="events per second (default: as fast as possible)")
    produce.set_defaults(run=cmd_produce)

    query = commands.add_parser("query", help="run SQL against the embedded ClickHouse of the demo or a replay")
    query.add_argument("sql", metavar="SQL", help="e.g. \"SELECT rep_name, count() FROM leads_routed FINAL "
                       "GROUP BY rep_name\" (the database is leadflow)")
    query.add_argument("--store", type=Path, default=DEMO_STORE, help=f"chdb folder (default {DEMO_STORE})")
    query.set_defaults(run=cmd_query)
