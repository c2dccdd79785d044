"""Prometheus metrics of `publisher run`: posts by state, paused channels and failing feeds (what
to alert on), deliveries by channel and outcome, lateness (start of sending minus due time) and
send-time histograms."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
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
        self.send_time.labels(channel).observe(delivered.seconds)

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)
