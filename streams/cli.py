"""The `leadflow` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from config.policy_files import PolicyError
from config.settings import Settings
from streams.embedded.commands import add_commands as add_embedded_commands

log = logging.getLogger("leadflow")


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import faust

    from config.settings import DEV_PII_KEY
    from streams.app import STAGES, create_app

    if not settings.pii_clear_text and settings.pii_key.get_secret_value() == DEV_PII_KEY:
        log.warning("phone numbers and e-mails are hashed with the development key: set LEADFLOW_PII_KEY")
    if not _ready_to_serve(settings):
        return 2
    app = create_app(settings, with_sink=not args.no_sink, stages=STAGES if args.stage == "all" else (args.stage,))
    # Faust's worker handles SIGINT/SIGTERM: agents stop, the sink stores and commits, then exit.
    _quiet_worker(faust)(app, loglevel=args.loglevel, quiet=True).execute_from_commandline()
    return 0


def _ready_to_serve(settings: Settings) -> bool:
    """Wait until every topic is in the cluster metadata, then serve metrics; False if topics are missing."""
    from prometheus_client import start_http_server

    from streams.topic_admin import wait_for_topics

    missing = wait_for_topics(settings)
    if missing:
        print(f"leadflow: topics missing (run `leadflow topics create`): {', '.join(missing)}", file=sys.stderr)
        return False
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        log.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    return True


def cmd_sink(settings: Settings, args: argparse.Namespace) -> int:
    import signal
    import threading

    from streams.sink_worker import SinkWorker

    if not _ready_to_serve(settings):
        return 2
    sink = SinkWorker(settings)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    sink.start()
    log.info("sink running (consumer group %s-clickhouse-sink); Ctrl-C stops it", settings.app_id)
    while not stopping.wait(0.5) and sink.is_alive():
        pass
    sink.stop()  # stores and commits what it read, then returns
    sink.join(timeout=60)
    return 0


def _quiet_worker(faust: Any) -> Any:
    """faust.Worker without its start-up spinner.

    To turn the spinner on every log record, Faust sets the root logger to DEBUG, and it stays
    there after start-up: every `log.debug` in aiokafka and Faust (two per message produced)
    then builds a record that the handlers drop. That was a tenth of the event loop's time at
    2,000 events/s. Without the spinner the root logger keeps the level asked for.
    """

    class QuietWorker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            self.spinner = None
            super().on_setup_root_logger(logger, level)

    return QuietWorker


def cmd_topics_create(settings: Settings, args: argparse.Namespace) -> int:
    from streams.topic_admin import create_topics, plan

    if args.dry_run:
        for item in plan(settings):
            print(f"{item.name}\tpartitions={item.partitions}\treplication={item.replication}\t{item.configs}")
        return 0
    created, present = create_topics(settings)
    for name in created:
        print(f"created  {name}")
    for name in present:
        print(f"present  {name}")
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from sinks.backends import open_backend
    from sinks.migrations import migrate

    backend = open_backend(settings.clickhouse_url.get_secret_value())
    try:
        applied = migrate(backend, report=print)
    finally:
        backend.close()
    print(f"schema up to date ({len(applied)} migration(s) applied now)")
    return 0


def cmd_schema_export(settings: Settings, args: argparse.Namespace) -> int:
    from streams.schema_export import export_schemas

    for path in export_schemas(args.directory):
        print(path)
    return 0


def cmd_config_show(settings: Settings, args: argparse.Namespace) -> int:
    print(json.dumps(settings.masked(), indent=2, ensure_ascii=False))
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(f"streams.bench_{args.bench}")
    options = {name: value for name, value in vars(args).items() if name in BENCH_OPTIONS[args.bench]}
    print(json.dumps(module.run(**options), indent=2))
    return 0


BENCH_OPTIONS: dict[str, dict[str, tuple[int, str]]] = {
    "routing": {"reps": (1000, "reps in the roster"), "leads": (100_000, "decisions to time")},
    "scoring": {"updates": (100_000, "profile updates to time")},
    "quality": {"reps": (200, "reps in the synthetic world"), "leads": (5000, "leads to route")},
    "rules": {"rules": (200, "alert rules to evaluate"), "updates": (50_000, "metric updates to time")},
    "freshness": {"rate": (2000, "events per second to produce"), "seconds": (20, "how long to produce"),
                  "bulk_rows": (200_000, "rows of the bulk insert measurement"),
                  "separate_sink": (1, "1: the sink in its own process (`leadflow sink`), 0: a thread of the worker"),
                  "workers": (1, "worker processes sharing the partitions"),
                  "split_stages": (1, "1: each worker as two processes, `--stage ingest` and `--stage decide`; "
                                   "0: one process")},
    "replay": {"events": (40_000, "events in the generated world"), "seed": (7, "the world's seed")},
}
BENCH_HELP = {
    "routing": "time the full routing decision (constraints, scoring, explanation); prints JSON",
    "scoring": "time one lead-profile update and intent assessment; prints JSON",
    "quality": "precision@1 of our routing vs round robin on a world with a known best rep; prints JSON",
    "rules": "time one metric update and the evaluation of the rules that read it; prints JSON",
    "freshness": "event time to row queryable in ClickHouse through a worker it starts, against the running "
                 "Kafka and ClickHouse (LEADFLOW_* settings); prints JSON",
    "replay": "events per second of an in-process replay of a generated world on one core; prints JSON",
}


def cmd_reps_push(settings: Settings, args: argparse.Namespace) -> int:
    from kafka import KafkaProducer

    from config.policy_files import load_roster
    from models.records import RosterUpdate

    roster = load_roster(args.file)  # an invalid file is refused here, before anything is sent
    producer = KafkaProducer(**settings.kafka_python_options())
    topic = settings.topic("reps.roster")
    for rep in roster.reps:
        producer.send(topic, key=rep.id.encode(), value=RosterUpdate(rep=rep).model_dump_json().encode())
    producer.flush(timeout=30)
    producer.close()
    print(f"published {len(roster.reps)} reps to {topic}")
    return 0


def cmd_reps_profile(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from sinks.backends import open_backend
    from sinks.history import recent_outcomes
    from streams.capability import RepStats
    from streams.rep_report import capability_rows

    backend = open_backend(settings.clickhouse_url.get_secret_value())
    try:
        outcomes = recent_outcomes(backend, days=180)
    finally:
        backend.close()
    stats = RepStats.from_history(outcomes)
    rows = capability_rows(stats, outcomes, datetime.now(timezone.utc))
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['rep_id']:<14} deals {row['deals']:>4}  best industry {row['best_industry']:<14} "
                  f"{row['best_industry_win_rate']:>5.0%}  best product {row['best_product']:<16} "
                  f"{row['best_product_close_rate']:>5.0%}")
    print(f"{len(outcomes)} won/lost outcomes of the last 180 days", file=sys.stderr)
    return 0


def cmd_rules_check(settings: Settings, args: argparse.Namespace) -> int:
    from streams.rules import check_rules_file

    problems = check_rules_file(args.file, settings.policy_dir / "metrics.yaml")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s); nothing changed", file=sys.stderr)
        return 1
    print(f"{args.file}: valid")
    return 0


def cmd_rules_push(settings: Settings, args: argparse.Namespace) -> int:
    from kafka import KafkaProducer

    from models.base import utc_now
    from models.records import RulesDocument

    if cmd_rules_check(settings, args):
        return 1  # an invalid set never leaves this machine
    document = RulesDocument(name=args.name, text=args.file.read_text(encoding="utf-8"), pushed_at=utc_now())
    producer = KafkaProducer(**settings.kafka_python_options())
    topic = settings.topic("config.rules")
    producer.send(topic, key=args.name.encode(), value=document.model_dump_json().encode())
    producer.flush(timeout=30)
    producer.close()
    print(f"published rule set {args.name!r} to {topic}; workers switch to it within seconds")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadflow",
        description="Streaming lead scoring, routing and alerting on Kafka and ClickHouse. "
        "Settings come from LEADFLOW_* environment variables (see `leadflow config show`).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    worker = commands.add_parser("worker", help="run the Faust worker: ingest, routing and the ClickHouse sink")
    worker.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    worker.add_argument("--stage", choices=["all", "ingest", "decide"], default="all",
                        help="run one part of the worker, each in a process of its own: ingest (validation, "
                        "stitching, dead letters) or decide (scoring, routing, regional metrics and alerts); "
                        "default all")
    worker.add_argument("--no-sink", action="store_true", help="do not run the ClickHouse sink in this process "
                        "(run `leadflow sink` beside it)")
    worker.set_defaults(run=cmd_worker)

    sink = commands.add_parser("sink", help="run only the ClickHouse sink, in its own process (beside "
                               "`leadflow worker --no-sink`): Kafka topics to ClickHouse tables, committed after each "
                               "stored batch")
    sink.set_defaults(run=cmd_sink)

    topics = commands.add_parser("topics", help="manage Kafka topics").add_subparsers(dest="action", required=True)
    create = topics.add_parser("create", help="create every leadflow topic that is missing (safe to repeat)")
    create.add_argument("--dry-run", action="store_true", help="print the plan, create nothing")
    create.set_defaults(run=cmd_topics_create)

    migrate = commands.add_parser("migrate", help="create or upgrade the ClickHouse schema (safe to repeat)")
    migrate.set_defaults(run=cmd_migrate)

    schema = commands.add_parser("schema", help="contracts of the topics").add_subparsers(dest="action", required=True)
    export = schema.add_parser("export", help="write one JSON Schema file per public topic into DIR")
    export.add_argument("directory", type=Path, metavar="DIR")
    export.set_defaults(run=cmd_schema_export)

    reps = commands.add_parser("reps", help="the sales team").add_subparsers(dest="action", required=True)
    push = reps.add_parser("push", help="validate a roster YAML and publish it to the compacted reps.roster topic")
    push.add_argument("file", type=Path, metavar="FILE")
    push.set_defaults(run=cmd_reps_push)
    profile = reps.add_parser("profile", help="recompute reps' measured win and close rates from the deal "
                              "history in ClickHouse (rep_outcomes)")
    profile.add_argument("--json", action="store_true", help="print JSON instead of a table")
    profile.set_defaults(run=cmd_reps_profile)

    rules = commands.add_parser("rules", help="alert rules in English or Chinese").add_subparsers(
        dest="action", required=True)
    check = rules.add_parser("check", help="validate a rules file: exit 0 when every rule is valid, "
                             "1 with each problem's line, column and a suggestion otherwise")
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(run=cmd_rules_check)
    push_rules = rules.add_parser("push", help="check a rules file, then publish it to the compacted config.rules "
                                  "topic; running workers swap to it atomically")
    push_rules.add_argument("file", type=Path, metavar="FILE")
    push_rules.add_argument("--name", default="default", help="the rule set's key on the topic (default: default)")
    push_rules.set_defaults(run=cmd_rules_push)

    bench = commands.add_parser("bench", help="benchmarks that print figures as JSON")
    benches = bench.add_subparsers(dest="bench", required=True)
    for name, options in BENCH_OPTIONS.items():
        sub = benches.add_parser(name, help=BENCH_HELP[name])
        for option, (default, text) in options.items():
            sub.add_argument(f"--{option.replace('_', '-')}", dest=option, type=int, default=default, help=f"{text} (default {default})")
        sub.set_defaults(run=cmd_bench)

    add_embedded_commands(commands)

    config = commands.add_parser("config", help="settings").add_subparsers(dest="action", required=True)
    show = config.add_parser("show", help="print the effective settings, secrets masked")
    show.set_defaults(run=cmd_config_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # kafka-python narrates every connection
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"leadflow: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    run: Callable[[Settings, argparse.Namespace], int] = args.run
    try:
        return run(settings, args)
    except PolicyError as exc:
        print(f"leadflow: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
