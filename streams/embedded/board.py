"""The terminal board of a replay or the demo (rich): what was routed and why, how fast,
which alerts fired where, which SLAs ran out; and a comparison of two policy sets."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from streams.embedded.summary import Comparison, Summary


def show_summary(summary: Summary, console: Console) -> None:
    events = ", ".join(f"{count:,} {source}" for source, count in sorted(summary.events.items()))
    console.print(f"[bold]Events[/bold] {sum(summary.events.values()):,} ({events}); "
                  f"{summary.bad_lines} bad line(s) skipped; {summary.leads:,} leads")
    latency = ", ".join(f"{name} {value:.3f} ms" for name, value in summary.latency_ms.items())
    console.print(f"[bold]Routed[/bold] {summary.routed:,} ({summary.to_reps:,} to reps, "
                  f"{summary.to_queues:,} to overflow queues); decision latency {latency}")
    console.print(f"[bold]SLA breaches[/bold] {summary.sla_breaches}; [bold]escalations[/bold] {summary.escalations}")

    routed = Table(title="Hottest routed leads", show_lines=False)
    for column in ("lead", "rep", "score", "trigger", "why"):
        routed.add_column(column)
    for example in summary.examples:
        routed.add_row(example["lead"][:12], example["rep"] or "", f"{example['score']:.0f}",
                       example["trigger"] or "", "; ".join(example["reasons"]))
    console.print(routed)

    if summary.breaches:
        breaches = Table(title="SLA breaches (first few)")
        for column in ("lead", "rep", "priority", "deadline (UTC)", "re-routed to"):
            breaches.add_column(column)
        for breach in summary.breaches:
            breaches.add_row(breach["lead"][:12], breach["rep"], breach["priority"], breach["deadline"][11:19],
                             breach["next_rep"] or "overflow queue")
        console.print(breaches)

    alerts = Table(title="Alerts fired")
    alerts.add_column("by severity")
    alerts.add_column("by region")
    severities = [f"{severity}: {count}" for severity, count in sorted(summary.alerts_firing.items())]
    regions = [f"{region}: {count}" for region, count in sorted(summary.alerts_by_region.items())]
    for row in range(max(len(severities), len(regions), 1)):
        alerts.add_row(severities[row] if row < len(severities) else "", regions[row] if row < len(regions) else "")
    console.print(alerts)


def show_comparison(comparison: Comparison, console: Console) -> None:
    console.print(f"[bold]Compared with the base policies[/bold]: {len(comparison.leads_to_other_reps)} lead(s) "
                  f"routed to another rep, {len(comparison.routed_only_in_base)} no longer routed, "
                  f"{len(comparison.routed_only_in_other)} newly routed; SLA breaches "
                  f"{comparison.sla_breaches['base']} -> {comparison.sla_breaches['other']}")
    if comparison.leads_to_other_reps:
        moved = Table(title="Leads routed to another rep")
        for column in ("lead", "base", "other"):
            moved.add_column(column)
        for change in comparison.leads_to_other_reps[:20]:
            moved.add_row(change["lead"][:12], change["base"], change["other"])
        console.print(moved)
    for title, alerts in (("Alerts gained", comparison.alerts_gained), ("Alerts lost", comparison.alerts_lost)):
        console.print(f"[bold]{title}[/bold]: {', '.join(alerts) if alerts else 'none'}")
