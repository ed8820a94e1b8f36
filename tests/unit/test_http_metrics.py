"""The API's request metrics, counted in plain numbers, export what prometheus_client's own
labelled Counter, Histogram and Gauge export for the same requests, byte for byte."""

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

from service.observability import LATENCY_BUCKETS, HttpMetrics

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
