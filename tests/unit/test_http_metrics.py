"""The API's request metrics and the snapshot-age histogram, counted in plain numbers, export what
prometheus_client's own Counter, Histogram and Gauge export for the same observations, byte for
byte."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from service.observability import LATENCY_BUCKETS, HttpMetrics, Metrics, PlainHistogram

_requests = st.lists(
    st.tuples(
        st.sampled_from(["availability", "healthz", "unmatched"]),
        st.sampled_from(["GET", "POST"]),
        st.sampled_from([200, 404, 500]),
        st.one_of(st.sampled_from(LATENCY_BUCKETS), st.floats(0, 20, allow_nan=False)),
    ),
    max_size=40,
)


def _reference(requests: list[tuple[str, str, int, float]], in_flight: int) -> bytes:
    disable_created_metrics()  # as Metrics does: no *_created series
    r = CollectorRegistry()
    count = Counter(
        "omnistock_http_requests_total",
        "HTTP requests by route, method and status.",
        ["route", "method", "status"],
        registry=r,
    )
    latency = Histogram(
        "omnistock_http_request_duration_seconds",
        "HTTP request latency by route and method.",
        ["route", "method"],
        buckets=LATENCY_BUCKETS,
        registry=r,
    )
    gauge = Gauge("omnistock_http_requests_in_flight", "Requests being handled.", registry=r)
    for route, method, status, seconds in requests:
        count.labels(route, method, str(status)).inc()
        latency.labels(route, method).observe(seconds)
    gauge.inc(in_flight)
    return generate_latest(r)


@given(_requests, st.integers(0, 5))
def test_exported_as_prometheus_client_exports_them(
    requests: list[tuple[str, str, int, float]], in_flight: int
) -> None:
    r = CollectorRegistry()
    metrics = HttpMetrics(LATENCY_BUCKETS)
    r.register(metrics)
    for route, method, status, seconds in requests:
        metrics.observe(route, method, status, seconds)
    metrics.in_flight = in_flight
    assert generate_latest(r) == _reference(requests, in_flight)


_AGE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 3600, 86400)


@given(st.lists(st.one_of(st.sampled_from(_AGE_BUCKETS), st.floats(0, 1e6)), max_size=40))
def test_a_plain_histogram_exports_as_a_histogram(ages: list[float]) -> None:
    disable_created_metrics()
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    plain = PlainHistogram("omnistock_age_seconds", "Ages.", _AGE_BUCKETS)
    ours.register(plain)
    reference = Histogram("omnistock_age_seconds", "Ages.", buckets=_AGE_BUCKETS, registry=theirs)
    for age in ages:
        plain.observe(age)
        reference.observe(age)
    assert generate_latest(ours) == generate_latest(theirs)


def test_the_snapshot_age_histogram_is_exported_as_before() -> None:
    """Name, help and buckets of ``omnistock_availability_snapshot_age_seconds`` as declared
    when it was a prometheus_client Histogram."""
    metrics = Metrics()
    metrics.snapshot_age.observe(42.0)
    reference_registry = CollectorRegistry()
    reference = Histogram(
        "omnistock_availability_snapshot_age_seconds",
        "Age of the stock snapshots availability answers were computed from.",
        buckets=_AGE_BUCKETS,
        registry=reference_registry,
    )
    reference.observe(42.0)
    ours = [
        line
        for line in generate_latest(metrics.registry).decode().splitlines()
        if "snapshot_age" in line
    ]
    assert ours == generate_latest(reference_registry).decode().splitlines()


@given(_requests)
def test_a_route_s_recorder_exports_as_prometheus_client_does(
    requests: list[tuple[str, str, int, float]],
) -> None:
    """The edge takes one recorder per route when it registers the route, then calls it for
    every request: the export is prometheus_client's, series in first-observed order."""
    r = CollectorRegistry()
    metrics = HttpMetrics(LATENCY_BUCKETS)
    r.register(metrics)
    recorders = {
        (route, method): metrics.recorder(route, method) for route, method, _, _ in requests
    }
    assert generate_latest(r) == _reference([], 0)  # taking a recorder exports nothing yet
    for route, method, status, seconds in requests:
        recorders[(route, method)](status, seconds)
    assert generate_latest(r) == _reference(requests, 0)
