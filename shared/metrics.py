"""Prometheus metrics every service exports on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter("numport_events_consumed_total", "Events taken from Kafka, by outcome.",
                   ["service", "topic", "outcome"])
HANDLER_SECONDS = Histogram("numport_handler_seconds", "Time spent handling one event or batch.",
                            ["service", "topic"])
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
GRAPH_REQUESTS = Counter("numport_graph_requests_total", "Graph API calls, by method and outcome.",
                         ["method", "outcome"])
GRAPH_WABA_CALLS = Counter("numport_graph_waba_calls_total",
                           "Graph API requests numport sent about one WABA, each retry included: Meta rate-limits per "
                           "WABA, and our own calls count (its automatic copies at registration do not).",
                           ["waba", "method"])
HTTP_RESPONSES = Counter("numport_http_responses_total", "Answers of a service's API, by route and status class.",
                         ["service", "status"])
SAGA_ESCALATIONS = Counter("numport_saga_escalations_total", "Migrations escalated to support, by reason code.",
                           ["reason"])
