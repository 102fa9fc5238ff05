"""Benchmark of intent scoring, in its two stages: transcript analysis of a call (once per call,
at ingest) and the profile update plus assessment of one event (the per-event hot path).

Events are built before timing, from a realistic mix: mostly web tracking (catalogued content
by id or URL, uncatalogued pages), some calls with mixed Chinese / English transcripts of a few
kilobytes, a few store purchases; timestamps advance with a little disorder. Run it with
`python -m streams.bench_scoring`.
"""

from __future__ import annotations

import gc
import json
import random
import time
from datetime import datetime, timedelta, timezone

from models.events import CallTranscript, InboundEvent, PosRow, WebEvent
from streams.intent import IntentModel, LeadProfile

_START = datetime(2026, 11, 27, tzinfo=timezone.utc)
_LEADS = 5_000
_CHATTER = ("we are looking at options for the new line and want to understand lead times",
            "could you send the specification sheet and the certification documents",
            "我们正在评估几家供应商的方案，需要了解交付周期和技术参数",
            "目前项目还在论证阶段，下周会和工程团队一起开会讨论")
_PHRASES = ("报价", "price", "预算", "budget", "合同", "trial", "本季度", "next month", "Voltix", "安派诺",
            "OEM", "整车厂", "医院", "school", "工厂", "production line")
_BIG_TRANSCRIPT_BYTES = 100_000
_TARGET_P99_US = 30.0
# The worker keeps profiles serialised in its table, not as live objects; the benchmark keeps
# them live (to time scoring alone), so it moves them out of the collector's reach every this
# many events, outside the timing, as it does the pre-built events. Without this the growing
# profile population triggers full (gen-2) collections inside timed calls.
_FREEZE_EVERY = 1_000


def _transcript(rng: random.Random, size: int) -> str:
    parts, length = [], 0
    while length < size:
        part = rng.choice(_CHATTER)
        if rng.random() < 0.15:
            part += " " + rng.choice(_PHRASES) + " "
        parts.append(part)
        length += len(part.encode("utf-8"))
    return "。".join(parts)


def _events(model: IntentModel, updates: int, seed: int) -> list[tuple[int, InboundEvent]]:
    rng = random.Random(seed)
    entries = model.catalog.entries
    urls = [f"https://example.test/{entry.id}" for entry in entries]
    events: list[tuple[int, InboundEvent]] = []
    for i in range(updates):
        lead = rng.randrange(_LEADS)
        # About 30 events a second across the leads, with up to a minute of disorder.
        ts = _START + timedelta(seconds=i / 30 - rng.random() * 60 * (rng.random() < 0.05))
        roll = rng.random()
        if roll < 0.82:
            entry = rng.choice(entries)
            pick = rng.random()
            content_id, url = ((entry.id, urls[entries.index(entry)]) if pick < 0.7
                               else (None, f"https://example.test/misc/page-{rng.randrange(500)}"))
            kind = rng.choices(("page_view", "content_download", "form_submit"), (0.8, 0.15, 0.05))[0]
            events.append((lead, WebEvent(ts=ts, kind=kind, visitor_id=f"v{lead}", url=url, content_id=content_id,
                                          dwell_seconds=rng.expovariate(1 / 60), region="East")))
        elif roll < 0.97:
            events.append((lead, CallTranscript(
                ts=ts, call_id=f"c{i}", phone=f"+8613800{lead:06d}", language=rng.choice(("zh", "en")),
                text=_transcript(rng, rng.randrange(500, 8_000)), duration_seconds=rng.uniform(30, 1200),
                region="North")))
        else:
            events.append((lead, PosRow(ts=ts, store="bj-01", region="North", sku="HV-200", quantity=1,
                                        amount=99.0, customer_id=f"cust-{lead}")))
    return events


def _percentile(sorted_ns: list[int], fraction: float) -> float:
    if not sorted_ns:
        return 0.0
    return sorted_ns[min(len(sorted_ns) - 1, int(fraction * len(sorted_ns)))] / 1000


def run(updates: int = 100_000, seed: int = 7) -> dict[str, object]:
    """Time the two stages separately; latencies in microseconds.

    "transcript_analysis": `signals_of()` per call, the stage the worker runs once per call at
    ingest. "update": `update()` + `assess()` (+ `mark_routed()` when routing fires) per event, calls carrying their pre-extracted
    signals; its p99_us is the figure the target (<= 30 µs) is about."""
    model = IntentModel.from_config()
    events = _events(model, updates, seed)
    clock = time.perf_counter_ns
    # Stage 1, transcript analysis, before the updates as at ingest. Its output rides with the event.
    signals: dict[int, dict[str, int]] = {}
    analysis_ns: list[int] = []
    transcript_bytes = 0
    for n, (_, event) in enumerate(events):
        if isinstance(event, CallTranscript):
            started = clock()
            signals[n] = model.signals_of(event)
            analysis_ns.append(clock() - started)
            transcript_bytes += len(event.text.encode("utf-8"))
    # The pre-built events are fixtures the worker never holds: keep full collections from
    # rescanning them inside the timed calls.
    gc.collect()
    gc.freeze()
    collections_before = [generation["collections"] for generation in gc.get_stats()]
    profiles: dict[int, LeadProfile] = {}
    by_source: dict[str, list[int]] = {"web": [], "call": [], "pos": []}
    biggest = 0
    update, assess, mark_routed, no_signals = model.update, model.assess, model.mark_routed, signals.get
    for n, (lead, event) in enumerate(events):
        found = no_signals(n)
        started = clock()
        profile = update(profiles.get(lead), event, found)
        if assess(profile, event.ts).trigger is not None:
            mark_routed(profile, event.ts)  # as the router does: a routed lead is not routed again
        elapsed = clock() - started
        profiles[lead] = profile
        by_source[event.source].append(elapsed)
        if n % 97 == 0:  # sampled outside the timing: the size bound must hold along the way too
            biggest = max(biggest, len(profile.to_bytes()))
        if n % _FREEZE_EVERY == 0:
            gc.freeze()
    collections = [after["collections"] - before for after, before in zip(gc.get_stats(), collections_before)]
    gc.unfreeze()
    biggest = max([biggest, *(len(p.to_bytes()) for p in profiles.values())])
    every = sorted(ns for timings in by_source.values() for ns in timings)
    web, calls = sorted(by_source["web"]), sorted(by_source["call"])
    analysis = sorted(analysis_ns)
    p99 = _percentile(every, 0.99)
    return {
        "update": {
            "measures": "update() + assess() per event (+ mark_routed() when it fires, as the router does); "
                        "calls with signals pre-extracted by signals_of()",
            "events": len(every),
            "p50_us": _percentile(every, 0.50),
            "p99_us": p99,
            "target_p99_us": _TARGET_P99_US,
            "meets_target": p99 <= _TARGET_P99_US,
            "updates_per_s": round(len(every) / (sum(every) / 1e9)) if every else 0,
            "web_p50_us": _percentile(web, 0.50),
            "web_p99_us": _percentile(web, 0.99),
            "call_p50_us": _percentile(calls, 0.50),
            "call_p99_us": _percentile(calls, 0.99),
            "profile_bytes_max": biggest,
            "gc_collections_gen0_gen1_gen2": collections,
        },
        "transcript_analysis": {
            "measures": "signals_of() per call (phrase scan), run once per call at ingest, not in the update",
            "calls": len(analysis),
            "transcript_bytes_mean": round(transcript_bytes / len(analysis)) if analysis else 0,
            "mb_per_s": round(transcript_bytes / 1e6 / (sum(analysis) / 1e9), 1) if analysis else 0.0,
            "p50_us": _percentile(analysis, 0.50),
            "p99_us": _percentile(analysis, 0.99),
            "call_100kb_ms": _big_call_ms(model, seed),
        },
    }


def _big_call_ms(model: IntentModel, seed: int) -> float:
    """Median transcript analysis time of a call with a 100 KB transcript."""
    rng = random.Random(seed)
    call = CallTranscript(ts=_START, call_id="big", phone="+8613800000000", language="zh",
                          text=_transcript(rng, _BIG_TRANSCRIPT_BYTES), duration_seconds=3600)
    timings = []
    for _ in range(21):
        started = time.perf_counter_ns()
        model.signals_of(call)
        timings.append(time.perf_counter_ns() - started)
    return round(sorted(timings)[len(timings) // 2] / 1e6, 2)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
