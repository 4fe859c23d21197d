"""Prometheus metrics every service exports on /metrics: every family numport has is declared here."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Saga waits are measured in seconds (a Graph write) up to days (a customer accepting the OBO request).
LONG_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400)
GRAPH_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Snapshot(Collector):
    """A family whose values are read from a durable source (the read model) before each scrape, not counted
    in-process: every replica reports the same, right after a restart too (aggregate it with max)."""

    def __init__(self, name: str, documentation: str, labels: list[str], kind: type[Metric]) -> None:
        self.name, self.documentation, self.labels, self.kind = name, documentation, labels, kind
        self.values: dict[tuple[str, ...], float] = {}
        REGISTRY.register(self)

    def _family(self) -> Metric:
        return self.kind(self.name, self.documentation, labels=self.labels)

    def describe(self) -> Iterator[Metric]:
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for key, value in sorted(self.values.items()):
            family.add_metric(list(key), value)  # type: ignore[attr-defined]
        yield family


CONSUMED = Counter("numport_events_consumed_total", "Events taken from Kafka, by outcome.",
                   ["service", "topic", "outcome"])
HANDLER_SECONDS = Histogram("numport_handler_seconds", "Time spent handling one event or batch.",
                            ["service", "topic"])
CONSUMER_LAG = Gauge("numport_consumer_lag", "Records of a partition not yet consumed, as of the group member's "
                     "last poll of it.", ["service", "topic", "partition"])
DEAD_LETTERED = Counter("numport_dead_lettered_total", "Records sent to a dead-letter topic.", ["service", "topic"])
DEAD_LETTERS_SHORTENED = Counter("numport_dead_letters_shortened_total",
                                 "Dead letters written shortened (hash, length, first bytes): no full copy fit.",
                                 ["service", "topic"])
CONSUMER_STUCK = Gauge("numport_consumer_stuck",
                       "1 while a partition keeps failing on one offset for NUMPORT_CONSUMER_STUCK_SECONDS or longer.",
                       ["service", "topic", "partition"])
OUTBOX_PUBLISHED = Counter("numport_outbox_published_total", "Outbox rows published to Kafka.", ["service"])
OUTBOX_PENDING = Gauge("numport_outbox_pending", "Outbox rows not yet published, at the last relay pass.",
                       ["service"])
OUTBOX_AGE = Gauge("numport_outbox_oldest_seconds", "Age of the oldest outbox row not yet published (0 when none).",
                   ["service"])
GRAPH_CALLS = Counter("numport_graph_calls_total", "Graph API requests, each attempt, by operation, HTTP status "
                      "('none' without an answer) and outcome (ok, retried, permanent, unknown, failed).",
                      ["operation", "status", "outcome"])
GRAPH_SECONDS = Histogram("numport_graph_call_seconds", "Latency of one Graph API request, by operation.",
                          ["operation"], buckets=GRAPH_BUCKETS)
GRAPH_WABA_CALLS = Counter("numport_graph_waba_calls_total",
                           "Graph API requests numport sent about one WABA, each retry included: Meta rate-limits per "
                           "WABA, and our own calls count (its automatic copies at registration do not).",
                           ["waba", "method"])
HTTP_RESPONSES = Counter("numport_http_responses_total", "Answers of a service's API, by route and status class.",
                         ["service", "status"])
HTTP_SECONDS = Histogram("numport_http_request_seconds", "Time to answer one API request, by route and status.",
                         ["service", "method", "route", "status"])
MIGRATIONS = Snapshot("numport_migrations", "Migrations by state, from the gateway's status read model.",
                      ["state"], GaugeMetricFamily)
MIGRATIONS_FINISHED = Snapshot("numport_migrations_finished", "Migrations that finished, by outcome (completed, "
                               "failed, ineligible, not_needed) and reason code, from the gateway's read model.",
                               ["outcome", "reason"], CounterMetricFamily)
SAGA_STEP_SECONDS = Histogram("numport_saga_step_seconds", "Time a migration spent in one saga state before it "
                              "moved on, by the state it left.", ["step"], buckets=LONG_BUCKETS)
MIGRATION_SECONDS = Histogram("numport_migration_duration_seconds", "From the saga's start (the eligible verdict) "
                              "to completed or failed.", ["outcome"], buckets=LONG_BUCKETS)
SAGA_ESCALATIONS = Counter("numport_saga_escalations_total", "Migrations escalated to support, by reason code.",
                           ["reason"])
