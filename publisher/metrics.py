"""Prometheus metrics of `publisher run`: posts by state, paused channels and failing feeds (what
to alert on), deliveries by channel and outcome, lateness (start of sending minus due time) and
send-time histograms; beside them the worker's health (`/healthz`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from publisher.clock import utcnow
from publisher.engine.delivery.dispatch import Delivered
from publisher.engine.posts.pauses import active_pauses
from publisher.engine.storage.schema import feeds, posts

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class _PostsByState(Collector):
    """Counts posts per channel and state at scrape time, from the database all workers share."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "publisher_posts", "Posts by channel and state", labels=["channel", "state"]
        )
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(posts.c.channel, posts.c.state, func.count()).group_by(
                    posts.c.channel, posts.c.state
                )
            )
            for channel, state, count in rows:
                family.add_metric([channel, state], count)
        yield family


class _NeedsAnEditor(Collector):
    """Paused channels and failing feeds at scrape time: what a monitor should alert on."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        paused = GaugeMetricFamily(
            "publisher_channel_paused",
            "1 for a channel that is paused (cause: credentials, settings, permissions, "
            "rate_limit or editor)",
            labels=["channel", "cause"],
        )
        failing = GaugeMetricFamily(
            "publisher_feed_failures", "Failed polls of a feed in a row", labels=["feed"]
        )
        with self.engine.connect() as connection:
            for name, pause in active_pauses(connection, utcnow()).items():
                paused.add_metric([name, pause.cause], 1)
            for name, failures in connection.execute(select(feeds.c.name, feeds.c.failures)):
                failing.add_metric([name], failures)
        yield paused
        yield failing


class Metrics:
    """The metrics one worker exports."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "publisher_deliveries",
            "Delivery attempts by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.lateness = Histogram(
            "publisher_lateness_seconds",
            "Start of sending minus the post's due time",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.send_time = Histogram(
            "publisher_send_seconds",
            "Time the platform call took",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_PostsByState(engine))
        self.registry.register(_NeedsAnEditor(engine))

    def observe(self, delivered: Delivered) -> None:
        channel = delivered.claimed.channel
        self.deliveries.labels(channel, delivered.outcome).inc()
        lateness = (delivered.started_at - delivered.claimed.due_at).total_seconds()
        self.lateness.labels(channel).observe(max(lateness, 0.0))
        for seconds in delivered.calls or (delivered.seconds,):
            self.send_time.labels(channel).observe(seconds)

    def serve(self, host: str, port: int, health: Callable[[], str | None]) -> None:
        """Serve the metrics on `host`:`port`, and at `/healthz` the worker's health: 200 with
        `{"ok": true}`, or 503 with what `health` says is wrong (for a unit or a monitor on a
        machine that runs workers only)."""
        metrics = make_wsgi_app(self.registry)

        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            if environ.get("PATH_INFO") != "/healthz":
                return list(metrics(environ, start_response))
            wrong = health()
            body = {"ok": True} if wrong is None else {"ok": False, "error": wrong}
            status = "200 OK" if wrong is None else "503 Service Unavailable"
            headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
            start_response(status, headers)
            return [json.dumps(body).encode()]

        server = make_server(host, port, answer, ThreadingWSGIServer, handler_class=_Quiet)
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A WSGI server answering each request in a thread of its own."""

    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    """No line on stderr per request: the worker's log is for events."""

    def log_message(self, format: str, *args: Any) -> None:
        pass
