"""Prometheus metrics of every service, served at ``/metrics`` on its health port.

One process is one service (a deployment scales by tasks, never by forking), so the default
registry of ``prometheus-client`` is the whole story and no multiprocess mode is needed. The
metrics are defined here, once, so every service names them alike:

- ``collections_http_requests_total`` / ``collections_http_request_duration_seconds``: per
  service, method, route template and status (from the request middleware, the same line as the
  request log);
- ``collections_messages_total``: work units per queue, kind, outcome (``done``, ``retry``,
  ``failed``) and reason (the error code), with ``collections_work_duration_seconds``;
- ``collections_messages_in_flight``, ``collections_queue_lag_seconds`` (age of the oldest
  message of the last receive, 0 when the queue had nothing) and
  ``collections_queue_message_age_seconds`` (age of each message when it was received);
- ``collections_provider_calls_total``, ``collections_provider_call_duration_seconds`` and
  ``collections_provider_tokens_total``: LLM and embedding provider calls by provider,
  operation and outcome;
- ``collections_search_duration_seconds`` per search mode;
- ``collections_items`` per status over all users (refreshed by the ingest service).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client import generate_latest as _generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST

# ``*_created`` timestamps double the page and no dashboard or alarm here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Request latencies from a cached listing (~1 ms) to an agentic search with an LLM (~10 s).
_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Work and provider calls: a thumbnail (~50 ms) to a slow vision model (a minute or two).
_WORK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_AGE_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)

HTTP_REQUESTS = Counter(
    "collections_http_requests",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "collections_http_request_duration_seconds",
    "Time from a request's arrival to its last response byte.",
    ["service", "method", "route"],
    buckets=_HTTP_BUCKETS,
)
MESSAGES = Counter(
    "collections_messages",
    "Units of queued work handled, by outcome (done, retry, failed) and reason (error code).",
    ["queue", "kind", "outcome", "reason"],
)
WORK_DURATION = Histogram(
    "collections_work_duration_seconds",
    "Time one unit of queued work took, whatever its outcome.",
    ["queue", "kind"],
    buckets=_WORK_BUCKETS,
)
MESSAGES_IN_FLIGHT = Gauge(
    "collections_messages_in_flight", "Messages this worker holds right now.", ["queue"]
)
QUEUE_LAG = Gauge(
    "collections_queue_lag_seconds",
    "Age of the oldest message in the last receive; 0 when the queue had none to give.",
    ["queue"],
)
QUEUE_MESSAGE_AGE = Histogram(
    "collections_queue_message_age_seconds",
    "How long each message waited in its queue before this worker received it.",
    ["queue"],
    buckets=_AGE_BUCKETS,
)
PROVIDER_CALLS = Counter(
    "collections_provider_calls",
    "Calls to LLM and embedding providers, by outcome (ok or the error's code).",
    ["provider", "operation", "outcome"],
)
PROVIDER_DURATION = Histogram(
    "collections_provider_call_duration_seconds",
    "Duration of provider calls, whatever their outcome.",
    ["provider", "operation"],
    buckets=_WORK_BUCKETS,
)
PROVIDER_TOKENS = Counter(
    "collections_provider_tokens",
    "Tokens providers reported, by direction (input, output).",
    ["provider", "operation", "direction"],
)
SEARCH_DURATION = Histogram(
    "collections_search_duration_seconds",
    "Search latency inside the search service, by mode.",
    ["mode"],
    buckets=_HTTP_BUCKETS,
)
ITEMS = Gauge("collections_items", "Items per status, all users together.", ["status"])


def generate_latest() -> bytes:
    """The text exposition of every metric of this process."""
    return _generate_latest(REGISTRY)


@contextmanager
def provider_call(provider: str, operation: str) -> Iterator[dict[str, str]]:
    """Time and count one provider call; set ``outcome`` in the yielded dict on failure.

    An exception escaping the block counts as its type's name unless ``outcome`` was set.
    """
    outcome = {"outcome": "ok"}
    started = time.perf_counter()
    try:
        yield outcome
    except BaseException as error:
        if outcome["outcome"] == "ok":
            outcome["outcome"] = type(error).__name__
        raise
    finally:
        PROVIDER_DURATION.labels(provider, operation).observe(time.perf_counter() - started)
        PROVIDER_CALLS.labels(provider, operation, outcome["outcome"]).inc()


def count_tokens(provider: str, operation: str, *, input_tokens: int, output_tokens: int) -> None:
    """Add the tokens a provider reported for one call."""
    if input_tokens:
        PROVIDER_TOKENS.labels(provider, operation, "input").inc(input_tokens)
    if output_tokens:
        PROVIDER_TOKENS.labels(provider, operation, "output").inc(output_tokens)
