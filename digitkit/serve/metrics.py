"""Prometheus metrics of `digitkit serve`, through ``prometheus-client``, served at ``/metrics``.

With ``--workers N`` each worker process counts on its own; ``prometheus-client``'s
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by the supervisor before it starts the
workers) sums them, so any worker answers ``/metrics`` for the whole server.
"""

from __future__ import annotations

import os

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


class Metrics:
    """The server's metrics; one instance per app (tests build many apps in one process)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        # In multiprocess mode values live in files per process; registering them with a
        # registry would only add this process's copy next to the summed one.
        target = None if multiprocess() else self.registry
        route = ["method", "route", "status"]
        self.requests = Counter("digitkit_http_requests", "HTTP requests answered, by route and status",
                                route, registry=target)
        self.latency = Histogram("digitkit_http_request_duration_seconds",
                                 "Time from the request's arrival to its last byte, by route and status",
                                 route, buckets=LATENCY_BUCKETS, registry=target)
        self.in_flight = Gauge("digitkit_http_requests_in_flight", "HTTP requests being answered now",
                               registry=target, multiprocess_mode="livesum")
        self.rejected = Counter("digitkit_requests_rejected",
                                "Requests refused before any work: gate (too many predictions in "
                                "progress), host (a Host name not served), connections (closed to stay "
                                "under the connection cap)", ["reason"], registry=target)
        self.load_seconds = Gauge("digitkit_model_load_seconds", "Time to load each model, in seconds",
                                  ["model"], registry=target, multiprocess_mode="max")
        self.predictions = Counter("digitkit_predictions", "Digits predicted, by model", ["model"],
                                   registry=target)
        if multiprocess():
            from prometheus_client import multiprocess as mp

            self.registry = CollectorRegistry()
            mp.MultiProcessCollector(self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
