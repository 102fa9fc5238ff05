"""`leadflow demo`: leadflow on one machine with nothing installed. Generates the synthetic sales
world, replays its business day through the pipeline's processors, writes every record to
embedded ClickHouse with the server's schema, and shows what happened and which planted stories
were caught."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

from rich.console import Console
from rich.table import Table

from config.settings import Settings
from sinks.personal_data import PersonalData
from streams.embedded.board import show_summary
from streams.embedded.session import EventsFile, load_policies, open_store, replay, save
from streams.embedded.stories import Verdict, judge
from streams.embedded.summary import summarise
from streams.embedded.world import generate_world, write_world

EXAMPLE_SQL = ("SELECT rep_name, count() AS leads, round(avg(score)) AS score "
               "FROM leads_routed FINAL GROUP BY rep_name ORDER BY leads DESC LIMIT 5")

Progress = Callable[[str, int], ContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class DemoRun:
    verdicts: list[Verdict]
    rows: dict[str, int]
    seconds: float


def run_demo(folder: Path, settings: Settings, console: Console, progress: Progress,
             seed: int = 7, events: int = 40_000) -> DemoRun:
    started = time.perf_counter()
    store_dir = folder / "clickhouse"
    shutil.rmtree(store_dir, ignore_errors=True)  # each demo starts from an empty store
    with console.status("generating the sales world"):
        world = generate_world(seed=seed, events=events)
        files = write_world(world, folder / "world")
    console.print(f"world: {len(world.reps)} reps, {len(world.deals):,} past deals, "
                  f"{len(world.events):,} events ({_counts(world.counts())}) in {files['events'].parent}")
    policies = load_policies(settings.policy_dir, files["roster"], files["deals"], files["responses"])
    parsed = EventsFile.read(files["events"])
    with progress("replaying the business day", len(parsed.lines)) as update:
        results = replay(parsed, policies, settings.alert_lateness_seconds, update)
    with console.status("writing every record to embedded ClickHouse"):
        backend = open_store(store_dir)
        try:
            rows = save(results, parsed, policies, backend, PersonalData(settings.pii_hash_key()))
        finally:
            backend.close()

    show_summary(summarise(results, parsed.bad), console)
    verdicts = judge(world.stories, results)
    show_verdicts(verdicts, console)
    seconds = time.perf_counter() - started
    console.print(f"\n{sum(rows.values()):,} rows in embedded ClickHouse at {store_dir} ({seconds:.1f} s in all). "
                  f"Query them (database leadflow), e.g.:\n"
                  f"  leadflow query --store {store_dir} \"{EXAMPLE_SQL}\"\n"
                  f"Tables: {', '.join(sorted(rows))}")
    return DemoRun(verdicts, rows, seconds)


def show_verdicts(verdicts: list[Verdict], console: Console) -> None:
    table = Table(title="Planted stories")
    for column in ("story", "caught", "evidence"):
        table.add_column(column)
    for verdict in verdicts:
        table.add_row(verdict.story, "[green]yes[/green]" if verdict.caught else "[red]NO[/red]", verdict.evidence)
    console.print(table)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {source}" for source, count in sorted(counts.items()))
