"""The embedded commands of the `leadflow` CLI: demo, generate, replay, produce, query."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from config.settings import Settings

DEMO_DIR = Path(".leadflow/demo")
DEMO_STORE = DEMO_DIR / "clickhouse"
REPLAY_STORE = Path(".leadflow/replay")
WORLD_DIR = Path(".leadflow/world")


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Any]:
    """A rich progress bar on stderr; yields `update(done)`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


def read_reporting(path: Path) -> Any:
    """The events file, each bad line reported on stderr with its number."""
    from streams.embedded.session import EventsFile

    events = EventsFile.read(path)
    for line in events.bad:
        print(f"{path}:{line.number}: skipped ({line.reason}): {line.detail}", file=sys.stderr)
    return events


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from rich.console import Console

    from streams.embedded.demo import run_demo

    run = run_demo(args.dir, settings, Console(), progress_bar, args.seed, args.events)
    return 0 if all(verdict.caught for verdict in run.verdicts) else 1


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from streams.embedded.world import generate_world, write_world

    start = datetime.combine(args.date, datetime.min.time(), timezone.utc) if args.date else None
    world = generate_world(seed=args.seed, start=start, events=args.events)
    files = write_world(world, args.out)
    counts = ", ".join(f"{count:,} {source}" for source, count in sorted(world.counts().items()))
    print(f"{len(world.events):,} events ({counts}) -> {files['events']}")
    print(f"{len(world.reps)} reps -> {files['roster']}; {len(world.deals):,} past deals -> {files['deals']}")
    print(f"rep response times -> {files['responses']}; planted stories -> {files['stories']}")
    print(f"replay it: leadflow replay {files['events']} --roster {files['roster']} --deals {files['deals']} "
          f"--responses {files['responses']}")
    return 0


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from rich.console import Console

    from sinks.personal_data import PersonalData
    from streams.embedded.board import show_comparison, show_summary
    from streams.embedded.session import load_policies, open_store, replay, save, to_json
    from streams.embedded.summary import compare, summarise

    events = read_reporting(args.file)
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

    events = read_reporting(args.file)
    with progress_bar("produce", len(events.lines)) as update:
        sent = produce(settings, events.lines, args.rate, update)
    print(f"sent {sent} events to {settings.kafka_bootstrap}; {len(events.bad)} bad line(s) skipped")
    return 0


def cmd_query(settings: Settings, args: argparse.Namespace) -> int:
    from sinks.backends import ChdbBackend
    from streams.embedded.session import DATABASE

    if not args.store.exists():
        print(f"leadflow: no store at {args.store}; run `leadflow demo` or `leadflow replay` first", file=sys.stderr)
        return 2
    backend = ChdbBackend(str(args.store.resolve()), DATABASE)
    try:
        started = time.perf_counter()
        print(backend.text(args.sql, args.format), end="")
    except Exception as exc:  # chdb raises its own error types for bad SQL
        print(f"leadflow: query failed: {exc}", file=sys.stderr)
        return 2
    finally:
        backend.close()
    print(f"({time.perf_counter() - started:.3f} s)", file=sys.stderr)
    return 0


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def add_commands(commands: Any) -> None:
    """Register the embedded commands on the CLI's subparsers."""
    demo = commands.add_parser(
        "demo", help="generate a synthetic sales world, replay its business day through the pipeline in-process, "
        "store everything in embedded ClickHouse and show the board and the planted stories (no Kafka, no server)")
    demo.add_argument("--dir", type=Path, default=DEMO_DIR, help=f"where the world and the store go (default {DEMO_DIR})")
    demo.add_argument("--seed", type=int, default=7, help="the world's seed (default 7)")
    demo.add_argument("--events", type=int, default=40_000, help="events in the world (default 40000)")
    demo.set_defaults(run=cmd_demo)

    generate = commands.add_parser("generate", help="write the synthetic world (events file, roster, deal history, "
                                   "rep response times, planted stories); seeded and reproducible")
    generate.add_argument("--out", type=Path, default=WORLD_DIR, help=f"output folder (default {WORLD_DIR})")
    generate.add_argument("--seed", type=int, default=7, help="the world's seed (default 7)")
    generate.add_argument("--events", type=int, default=40_000, help="events in all (default 40000, at least 5000)")
    generate.add_argument("--date", type=_date, help="the business day, YYYY-MM-DD, a weekday (default 2026-11-24)")
    generate.set_defaults(run=cmd_generate)

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
    query.add_argument("--format", default="PrettyCompact",
                       help="any ClickHouse output format: TSVWithNames, CSVWithNames, JSONEachRow, ... "
                       "(default PrettyCompact)")
    query.set_defaults(run=cmd_query)
