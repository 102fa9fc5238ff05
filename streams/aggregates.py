"""Regional metric aggregation for the alert rules: what each event adds to which metric of
which region (`contributions`), and the event-time store of per-minute values every rule reads
(`MetricStore`). Pure: no Faust, no Kafka, no I/O.

The store keeps, per (region, metric) with data, a ring of `horizon_days` of minute buckets with
running (prefix) totals of sums and counts, so any window (1 minute, 1 hour, 1 day, a day or a
week ago) is two array reads whatever its length. All regions live in one store: the worker keeps
them in one partition so one rule can compare two regions.

Windows. The window of `window_seconds` ending at `window_end` is the whole minutes
(end - W, end], the minute holding `window_end` included (partial while it is the current minute);
the baselines of a change rule are the same windows a day / a week earlier, whole minutes. So a
current 1-hour window can read up to 1/60 below its baseline at the start of a minute; rules say
"more than 20%", far above that.

Known history. The store counts from its first event (`origin`, the first minute it accepted).
A window that starts before the origin, or beyond the retained horizon, has no value (None): a
partly covered window would read too low and make "drop" and "below" rules fire on missing
history; in particular a week-over-week baseline is None until the store holds 7 days (+ the window)
of history. Inside known history a sum or count with no events is 0.0; an avg / max / min with no
sample is None.
"""

from __future__ import annotations

import bisect
import json
import math
from array import array
from operator import attrgetter
from datetime import datetime, timezone
from typing import Any, Callable, Literal, Mapping, TypeVar

import numpy as np

from models.alert_rules import BuiltinMetric, EventMetric, MetricCatalog, RatioMetric, SignalMetric, matched_fields
from models.base import SCHEMA_VERSION, stable_ids, unchecked
from models.events import CallTranscript, Event, ExternalSignal, InboundEvent, PosRow, WebEvent
from models.records import RegionMetric

STATE_VERSION = 1
WINDOWS: dict[str, int] = {"1m": 1, "1h": 60, "1d": 1440}  # name -> minutes
LEAD_METRICS = ("leads_created", "leads_routed", "sla_breaches")
LeadMetric = Literal["leads_created", "leads_routed", "sla_breaches"]

# How each builtin metric aggregates its increments (models.alert_rules.BUILTIN_METRICS).
BUILTIN_AGGREGATES: dict[str, str] = {
    "sales": "sum", "orders": "count", "units": "sum", "leads_created": "count",
    "leads_routed": "count", "sla_breaches": "count", "web_sessions": "count",
}
_UTC = timezone.utc
# _data_minutes() scans spans up to this many minutes with plain reads (a restored store's minutes
# not handed out yet), where building numpy arrays costs more than the scan.
_SCAN_MINUTES = 64
_new_region_metric = unchecked(RegionMetric)  # built from the store's own values


# ---- contributions ------------------------------------------------------------------------

class _Index:
    """What contributions() needs from a catalogue, looked up once."""

    def __init__(self, catalog: MetricCatalog) -> None:
        self.catalog = catalog
        self.builtins = {m.name for m in catalog.metrics if isinstance(m, BuiltinMetric)}
        self.signals: dict[str, list[str]] = {}
        self.events: dict[str, list[EventMetric]] = {"web": [], "call": [], "pos": [], "signal": []}
        for metric in catalog.metrics:
            if isinstance(metric, SignalMetric):
                self.signals.setdefault(metric.signal_kind, []).append(metric.name)
            elif isinstance(metric, EventMetric):
                self.events[metric.source].append(metric)
        self._regions: dict[tuple[str | None, str | None], str] = {}
        # Pages, SKUs and signal kinds recur, so which event metrics an event matches is memoised on
        # the fields the filters read; not for calls, whose transcripts never recur.
        self._match_key = {source: attrgetter(*matched_fields(source)) for source in ("web", "pos", "signal")}
        self._matching: dict[tuple[str, object], tuple[EventMetric, ...]] = {}

    def region(self, region: str | None, store: str | None = None) -> str:
        key = (region, store)
        found = self._regions.get(key)
        if found is None:
            found = _remember(self._regions, key, self.catalog.resolve_region(region, store))
        return found

    def matching(self, event: Event) -> tuple[EventMetric, ...]:
        """The event metrics of the catalogue that `event` counts towards."""
        source = event.source
        key_of = self._match_key.get(source)
        if key_of is None:
            return self._match(event)
        key = (source, key_of(event))
        found = self._matching.get(key)
        if found is None:
            found = _remember(self._matching, key, self._match(event))
        return found

    def _match(self, event: Event) -> tuple[EventMetric, ...]:
        return tuple(metric for metric in self.events[event.source] if metric.matches(event))


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
    """`value`, memoised under `key`; the keys are values producers send, so the memo is bounded."""
    if len(memo) >= 4096:
        memo.clear()
    memo[key] = value
    return value


_INDEXES: dict[int, _Index] = {}


def _index(catalog: MetricCatalog) -> _Index:
    index = _INDEXES.get(id(catalog))
    if index is None or index.catalog is not catalog:
        if len(_INDEXES) > 16:
            _INDEXES.clear()
        index = _INDEXES[id(catalog)] = _Index(catalog)
    return index


def contributions(event: InboundEvent, catalog: MetricCatalog,
                  signals: Mapping[str, int] = {}) -> list[tuple[str, str, float]]:
    """The (region, metric, amount) increments `event` makes, each to be added at `event.ts`.

    - POS row: sales += amount, orders += 1, units += quantity, in the region of its `region`
      field (any alias), else of its store (`stores:` of the catalogue), else the default region.
    - Web event: web_sessions += 1 per page_view. A simplification: the builtin means distinct
      visitors, but counting distinct visitors per window needs per-visitor state; a page view
      is the session proxy until sessions are tracked.
    - External signal: each signal metric of its kind += its value (the store keeps sum and count
      per minute, so sum, count, avg, max and min all come out of the same increments).
    - Every user-defined event metric the event passes (`EventMetric.matches`): += 1 for a count,
      the summed field for a sum. Call transcripts match on their own text against the metric's
      phrases; `signals` (the lexicon counts found at ingest) is accepted so the worker can pass
      what it has, but the catalogue's phrases are their own list and are not in it.
    Builtins the catalogue does not list are not produced.
    """
    index = _index(catalog)
    builtins = index.builtins
    out: list[tuple[str, str, float]] = []
    if isinstance(event, PosRow):
        region = index.region(event.region, event.store)
        if "sales" in builtins:
            out.append((region, "sales", float(event.amount)))
        if "orders" in builtins:
            out.append((region, "orders", 1.0))
        if "units" in builtins:
            out.append((region, "units", float(event.quantity)))
    elif isinstance(event, WebEvent):
        region = index.region(event.region)
        if event.kind == "page_view" and "web_sessions" in builtins:
            out.append((region, "web_sessions", 1.0))
    elif isinstance(event, ExternalSignal):
        region = index.region(event.region)
        for name in index.signals.get(event.kind, ()):
            out.append((region, name, float(event.value)))
    elif isinstance(event, CallTranscript):
        region = index.region(event.region)
    else:
        raise TypeError(f"not an inbound event: {type(event).__name__}")
    for metric in index.matching(event):  # type: ignore[arg-type]
        amount = 1.0 if metric.field is None else float(getattr(event, metric.field))
        out.append((region, metric.name, amount))
    return out


def lead_event_metrics(created: bool, routed: bool) -> tuple[LeadMetric, ...]:
    """The lead metrics one lead event counts towards: a new lead, a routing, both or neither."""
    return _LEAD_EVENT_METRICS[created, routed]


_LEAD_EVENT_METRICS: dict[tuple[bool, bool], tuple[LeadMetric, ...]] = {
    (False, False): (), (True, False): ("leads_created",), (False, True): ("leads_routed",),
    (True, True): ("leads_created", "leads_routed"),
}


def lead_contributions(kinds: tuple[LeadMetric, ...], region: str | None,
                       catalog: MetricCatalog | None = None) -> list[tuple[str, str, float]]:
    """The (region, metric, 1.0) increments the lead stage makes for a lead created / routed / SLA
    breach, like `contributions`, to be added at the time of the lead event or breach. With
    `catalog`, `region` may be any alias (or None: the default region); without it, it must
    already be canonical."""
    unknown = [kind for kind in kinds if kind not in LEAD_METRICS]
    if unknown:
        raise ValueError(f"unknown lead metric {unknown[0]!r}; expected one of {', '.join(LEAD_METRICS)}")
    if catalog is not None:
        region = _index(catalog).region(region)
    elif not region:
        raise ValueError("a region is needed (or a catalog to resolve the default region)")
    return [(region, kind, 1.0) for kind in kinds]


# ---- the store ----------------------------------------------------------------------------

def _seconds(ts: datetime | float) -> float:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_UTC)  # event time without an offset is UTC (models.base)
        return ts.timestamp()
    return float(ts)


def _minute_start(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, _UTC)


class _Series:
    """One (region, metric): ring slots `minute % H` for the minutes (head - H, head].

    csum / ccnt are running totals through each minute; bsum the minute's own sum (kept so
    per-minute values carry no cancellation noise); bmax / bmin the minute's extremes (max / min
    metrics only). Minutes after `head` have no data: their running totals are head's. `pending`
    lists the minutes that received data and were not handed out by closed_minutes(), ascending.
    """

    __slots__ = ("csum", "ccnt", "bsum", "bmax", "bmin", "head", "pending", "ids")

    def __init__(self, size: int, extremes: bool, head: int) -> None:
        zeros = bytes(8 * size)
        self.csum = array("d", zeros)
        self.ccnt = array("d", zeros)
        self.bsum = array("d", zeros)
        self.bmax = array("d", [-math.inf]) * size if extremes else None
        self.bmin = array("d", [math.inf]) * size if extremes else None
        self.head = head
        self.pending: list[int] = []
        self.ids: Callable[[object], str] | None = None  # its closed minutes' metric ids, by minute start


class MetricStore:
    """Event-time minute aggregates of every (region, metric), all regions in one object.

    `add` accepts an increment unless it is older than watermark - lateness (the watermark being
    the latest event time seen); `value` is the MetricView the rules read (streams/rules/evaluate.py);
    `closed_minutes` hands out each finished minute once for the region.metrics topic.
    """

    def __init__(self, catalog: MetricCatalog, lateness_seconds: float = 120, window_seconds: int = 3600,
                 horizon_days: int = 8) -> None:
        if window_seconds < 60 or window_seconds % 60:
            raise ValueError("window_seconds must be a positive whole number of minutes")
        if lateness_seconds < 0:
            raise ValueError("lateness_seconds must not be negative")
        self.catalog = catalog
        self.lateness_seconds = float(lateness_seconds)
        self.window_seconds = int(window_seconds)
        self.horizon_days = int(horizon_days)
        self.window_minutes = self.window_seconds // 60
        self._size = self.horizon_days * 1440
        # A week-ago baseline reads back 7 days + its window; keep margin for late minutes.
        needed = max(7 * 1440 + self.window_minutes, WINDOWS["1d"]) + int(self.lateness_seconds // 60) + 2
        if self._size < needed:
            raise ValueError(f"horizon_days={horizon_days} is too short for week-over-week baselines "
                             f"of a {window_seconds}s window")
        self._kinds: dict[str, str] = {}
        self._ratios: dict[str, tuple[str, str]] = {}
        for metric in catalog.metrics:
            if isinstance(metric, BuiltinMetric):
                self._kinds[metric.name] = BUILTIN_AGGREGATES[metric.name]
            elif isinstance(metric, (SignalMetric, EventMetric)):
                self._kinds[metric.name] = metric.aggregate
            elif isinstance(metric, RatioMetric):
                self._kinds[metric.name] = "ratio"
                self._ratios[metric.name] = (metric.numerator, metric.denominator)
        self._series: dict[tuple[str, str], _Series] = {}
        # The series with pending minutes (data closed_minutes() has not handed out): it reads
        # only these, not every series. An accepted increment is never in a handed-out minute
        # (those ended before watermark - lateness, and the watermark only grows).
        self._unclosed: dict[tuple[str, str], _Series] = {}
        self._wm = -math.inf  # watermark, epoch seconds
        self._wm_source: datetime | float | None = None  # the event time that set the watermark
        self._wm_minute = -(1 << 62)
        self._origin: int | None = None  # first accepted minute: where known history begins
        self._closed: int | None = None  # last minute handed out by closed_minutes()
        self.late_dropped = 0

    # ---- writing --------------------------------------------------------------------------

    @property
    def watermark(self) -> datetime | None:
        """The latest event time seen (None before the first event)."""
        if self._wm == -math.inf:
            return None
        source = self._wm_source
        if type(source) is datetime and source.tzinfo is _UTC:
            return source  # fromtimestamp(ts.timestamp()) == ts to the microsecond: no new datetime
        return datetime.fromtimestamp(self._wm, _UTC)

    @property
    def origin(self) -> datetime | None:
        """Start of known history: the first minute the store counted."""
        return None if self._origin is None else _minute_start(self._origin)

    def kinds(self) -> dict[str, str]:
        """Every metric of the catalogue -> its aggregate (see `aggregate`)."""
        return dict(self._kinds)

    def aggregate(self, metric: str) -> str:
        """sum, count, avg, max, min or ratio; KeyError for a metric the catalogue lacks."""
        return self._kinds[metric]

    def add(self, region: str, metric: str, ts: datetime | float, amount: float, count: int = 1) -> bool:
        """Add `amount` (and `count` samples, for pre-aggregated input) to `metric` in `region` at
        event time `ts` (a datetime, or epoch seconds). False, counted in `late_dropped`, for an
        increment older than watermark - lateness; KeyError for an unknown or ratio metric."""
        t = ts.timestamp() if type(ts) is datetime and ts.tzinfo is not None else _seconds(ts)
        if t < self._wm - self.lateness_seconds:
            self.late_dropped += 1
            return False
        kind = self._kinds.get(metric)
        if kind is None or kind == "ratio":
            raise KeyError(f"cannot add to metric {metric!r}: " + ("a ratio is computed from its parts"
                                                                    if kind else "not in the catalogue"))
        m = int(t // 60)
        if t > self._wm:
            self._wm = t
            self._wm_minute = m
            self._wm_source = ts
        if self._origin is None or m < self._origin:
            self._origin = m
        size = self._size
        key = (region, metric)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(size, kind in ("max", "min"), m)
            series.pending.append(m)
            self._unclosed[key] = series
        head = series.head
        if m > head:
            self._advance(series, m)
            head = m
            # A series leaves _unclosed once its head minute is handed out; an accepted increment
            # comes after that minute, so only a new head can bring it back.
            series.pending.append(m)
            self._unclosed[key] = series
        slot = m % size
        csum, ccnt = series.csum, series.ccnt
        if m == head:
            csum[slot] += amount
            ccnt[slot] += count
        else:  # a late increment: the running totals of the minutes after it move too
            if ccnt[slot] == ccnt[slot - 1]:  # its minute's first data (slot - 1 is -1 for slot 0: the ring's last)
                bisect.insort(series.pending, m)
            for minute in range(m, head + 1):
                i = minute % size
                csum[i] += amount
                ccnt[i] += count
        series.bsum[slot] += amount
        if series.bmax is not None:
            if amount > series.bmax[slot]:
                series.bmax[slot] = amount
            if amount < series.bmin[slot]:  # type: ignore[index]
                series.bmin[slot] = amount  # type: ignore[index]
        return True

    def _advance(self, series: _Series, minute: int) -> None:
        """Open minutes head+1 .. minute (no data yet): carry the running totals forward."""
        size, head = self._size, series.head
        i = head % size
        carry_sum, carry_cnt = series.csum[i], series.ccnt[i]
        gap = minute - head
        if gap <= 8:
            for j in range(head + 1, minute + 1):
                k = j % size
                series.csum[k] = carry_sum
                series.ccnt[k] = carry_cnt
                series.bsum[k] = 0.0
                if series.bmax is not None:
                    series.bmax[k] = -math.inf
                    series.bmin[k] = math.inf  # type: ignore[index]
        else:
            start, count = (head + 1) % size, min(gap, size)
            for ring, fill in ((series.csum, carry_sum), (series.ccnt, carry_cnt), (series.bsum, 0.0),
                               (series.bmax, -math.inf), (series.bmin, math.inf)):
                if ring is not None:
                    view = np.frombuffer(ring, dtype=np.float64)
                    view[start:start + count] = fill
                    if start + count > size:  # the part past the ring's end, from slot 0
                        view[:start + count - size] = fill
        series.head = minute

    # ---- reading --------------------------------------------------------------------------

    def value(self, metric: str, region: str, window_end: datetime) -> float | None:
        """The metric over the `window_seconds` window ending at `window_end` (see the module
        doc for None and 0.0). Ratio metrics: numerator / denominator, None when a part has no
        value or the denominator is 0."""
        return self.value_at(metric, region, int(_seconds(window_end) // 60), self.window_minutes)

    def windows(self, metric: str, region: str, end: datetime) -> dict[str, float | None]:
        """The metric over the 1 minute, 1 hour and 1 day windows ending at `end`."""
        minute = int(_seconds(end) // 60)
        return {name: self.value_at(metric, region, minute, width) for name, width in WINDOWS.items()}

    def value_at(self, metric: str, region: str, end_minute: int, width: int) -> float | None:
        """The metric over the `width` minutes (end_minute - width, end_minute] (epoch minutes)."""
        kind = self._kinds[metric]
        start = end_minute - width  # exclusive
        origin = self._origin
        if origin is None or start + 1 < origin or start <= self._wm_minute - self._size:
            return None  # outside known history
        return self._window(kind, metric, region, start, end_minute)

    def values_at(self, region: str, metrics: tuple[str, ...], end_minute: int, width: int) -> list[float | None]:
        """value_at of several metrics of one region at once (the alert context reads them all)."""
        start = end_minute - width
        origin = self._origin
        if origin is None or start + 1 < origin or start <= self._wm_minute - self._size:
            return [None] * len(metrics)
        kinds, window = self._kinds, self._window
        return [window(kinds[metric], metric, region, start, end_minute) for metric in metrics]

    def _window(self, kind: str, metric: str, region: str, start: int, end_minute: int) -> float | None:
        """value_at of a window (start, end_minute] inside known history; `kind` is the metric's."""
        if kind == "ratio":
            numerator, denominator = self._ratios[metric]
            kinds = self._kinds
            top = self._window(kinds[numerator], numerator, region, start, end_minute)
            bottom = self._window(kinds[denominator], denominator, region, start, end_minute)
            return None if top is None or not bottom else top / bottom
        series = self._series.get((region, metric))
        if series is None:
            return 0.0 if kind == "sum" or kind == "count" else None
        head, size = series.head, self._size
        a = (start if start < head else head) % size
        e = (end_minute if end_minute < head else head) % size
        ccnt = series.ccnt
        count = ccnt[e] - ccnt[a]
        if kind == "count":
            return count
        if not count:
            return 0.0 if kind == "sum" else None
        total = series.csum[e] - series.csum[a]
        if kind == "sum":
            return total
        if kind == "avg":
            return total / count
        ring = series.bmax if kind == "max" else series.bmin
        slots = np.arange(start + 1, min(end_minute, head) + 1) % size
        values = np.frombuffer(ring, dtype=np.float64)[slots]  # type: ignore[arg-type]
        return float(values.max() if kind == "max" else values.min())

    def _data_minutes(self, series: _Series, first: int, last: int) -> list[int]:
        """The minutes in [first, last] (clipped to the series' retained data) with data."""
        last = min(last, series.head)
        first = max(first, series.head - self._size + 2, self._wm_minute - self._size + 2)
        if last < first:
            return []
        size, ccnt = self._size, series.ccnt
        if last - first < _SCAN_MINUTES:
            return [minute for minute in range(first, last + 1)
                    if ccnt[minute % size] - ccnt[(minute - 1) % size] != 0]
        minutes = np.arange(first, last + 1, dtype=np.int64)
        counts = np.frombuffer(ccnt, dtype=np.float64)
        return minutes[counts[minutes % size] - counts[(minutes - 1) % size] != 0].tolist()

    # ---- the region.metrics topic ---------------------------------------------------------

    def closed_minutes(self) -> list[RegionMetric]:
        """Per-minute values (window "1m") of every minute that ended at or before
        watermark - lateness and was not handed out before: one record per (region, metric) with
        data in it, ordered by minute, region, metric. Ratio metrics are not emitted (boards divide
        their parts). metric_id = stable_id("metric", region, metric, "1m", minute start)."""
        if self._origin is None:
            return []
        last = int((self._wm - self.lateness_seconds) // 60) - 1
        first = self._origin if self._closed is None else self._closed + 1
        if last < first:
            return []
        records: list[tuple[int, str, str, float, Callable[[object], str]]] = []
        done = []
        for key, series in self._unclosed.items():
            pending = series.pending
            if pending[0] > last:
                continue
            n = bisect.bisect_right(pending, last)
            region, metric = key
            records += self._minute_values(self._kinds[metric], series, pending[:n], region, metric)
            del pending[:n]
            if not pending:
                done.append(key)
        for key in done:
            del self._unclosed[key]
        self._closed = last
        self._prune()
        records.sort()
        out = []
        current = None
        for minute, region, metric, value, metric_id in records:
            if minute != current:  # records come by minute: one datetime and its text per minute
                current, start = minute, _minute_start(minute)
                start_text = str(start)  # what stable_id makes of the datetime: the id is unchanged
            out.append(_new_region_metric({
                "schema_version": SCHEMA_VERSION, "metric_id": metric_id(start_text), "region": region,
                "metric": metric, "window": "1m", "window_start": start, "value": value}))
        return out

    def _minute_values(self, kind: str, series: _Series, minutes: list[int], region: str, metric: str
                       ) -> list[tuple[int, str, str, float, Callable[[object], str]]]:
        """(minute, region, metric, value, the series' metric ids) of each of the series' `minutes`
        that has samples."""
        size, ccnt, bsum = self._size, series.ccnt, series.bsum
        if series.ids is None:
            series.ids = stable_ids("metric", region, metric, "1m")
        out = []
        for minute in minutes:
            i = minute % size
            count = ccnt[i] - ccnt[i - 1]  # i - 1 is -1 for slot 0: the ring's last slot, as it should
            if not count:
                continue  # only amounts without samples (add(count=0)): no value
            if kind == "sum":
                value = bsum[i]
            elif kind == "count":
                value = count
            elif kind == "avg":
                value = bsum[i] / count
            else:
                value = (series.bmax if kind == "max" else series.bmin)[i]  # type: ignore[index]
            out.append((minute, region, metric, value, series.ids))
        return out

    def _prune(self) -> None:
        """Drop the series whose every minute has left the horizon."""
        old = [key for key, series in self._series.items() if series.head <= self._wm_minute - self._size]
        for key in old:
            del self._series[key]

    # ---- state ----------------------------------------------------------------------------

    def to_json(self) -> str:
        """Compact state: settings, clocks, and per series only the minutes with data (as
        minute deltas, sums and counts; extremes for max / min metrics)."""
        series_out = []
        for (region, metric), series in sorted(self._series.items()):
            minutes = self._data_minutes(series, -(1 << 62), series.head)
            if not minutes:
                continue
            size = self._size
            slots = [minute % size for minute in minutes]
            previous = [(minute - 1) % size for minute in minutes]
            entry: dict[str, Any] = {
                "r": region, "m": metric, "t0": minutes[0],
                "dt": [b - a for a, b in zip(minutes, minutes[1:])],
                "s": [series.bsum[i] for i in slots],
                "c": [series.ccnt[i] - series.ccnt[j] for i, j in zip(slots, previous)],
            }
            if series.bmax is not None:
                entry["hi"] = [series.bmax[i] for i in slots]
                entry["lo"] = [series.bmin[i] for i in slots]  # type: ignore[index]
            series_out.append(entry)
        state = {
            "v": STATE_VERSION,
            "lateness": self.lateness_seconds, "window": self.window_seconds, "horizon_days": self.horizon_days,
            "wm": None if self._wm == -math.inf else self._wm,
            "origin": self._origin, "closed": self._closed, "late": self.late_dropped,
            "series": series_out,
        }
        return json.dumps(state, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, catalog: MetricCatalog) -> MetricStore:
        """The store `to_json` saved (its settings included), over `catalog`."""
        state = json.loads(text)
        if state.get("v") != STATE_VERSION:
            raise ValueError(f"unknown metric store state version {state.get('v')!r}")
        store = cls(catalog, state["lateness"], state["window"], state["horizon_days"])
        size = store._size
        for entry in state["series"]:
            region, metric = entry["r"], entry["m"]
            kind = store._kinds.get(metric)
            if kind is None or kind == "ratio":
                continue  # the catalogue changed: a metric it no longer has is dropped
            minute = entry["t0"]
            series = store._series[(region, metric)] = _Series(size, kind in ("max", "min"), minute)
            highs, lows = entry.get("hi"), entry.get("lo")
            for n, (total, count) in enumerate(zip(entry["s"], entry["c"])):
                if n:
                    minute += entry["dt"][n - 1]
                if minute > series.head:
                    store._advance(series, minute)
                i = minute % size
                series.csum[i] += total
                series.ccnt[i] += count
                series.bsum[i] = total
                if series.bmax is not None and highs is not None and lows is not None:
                    series.bmax[i] = highs[n]
                    series.bmin[i] = lows[n]  # type: ignore[index]
        if state["wm"] is not None:
            store._wm = float(state["wm"])
            store._wm_minute = int(store._wm // 60)
        store._origin, store._closed, store.late_dropped = state["origin"], state["closed"], state["late"]
        for key, series in store._series.items():  # what closed_minutes() has not handed out yet
            series.pending = store._data_minutes(series, -(1 << 62) if store._closed is None else store._closed + 1,
                                                 series.head)
            if series.pending:
                store._unclosed[key] = series
        return store

    # ---- introspection --------------------------------------------------------------------

    def series(self) -> list[tuple[str, str]]:
        """The (region, metric) pairs with retained data."""
        return sorted(self._series)

    def memory_bytes(self) -> int:
        """Bytes held by the minute rings (the bound: horizon_days of minutes per series)."""
        per = 8 * self._size
        return sum(per * (3 if s.bmax is None else 5) for s in self._series.values())


__all__ = ["BUILTIN_AGGREGATES", "LEAD_METRICS", "WINDOWS", "MetricStore", "contributions", "lead_contributions",
           "lead_event_metrics"]
