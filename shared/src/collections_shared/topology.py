"""Where work flows: one queue per consuming service (each with a DLQ) and the events routed to it.

A stage's queue receives the fact it follows and the request for the same work: the analyzer
``ImageProcessed`` and ``AnalysisRequested``, the embedder ``AnalysisComplete`` and
``ReindexRequested``, ingest the bucket's notifications and ``ReprocessRequested``.
``EmbeddingComplete`` and ``ItemFailed`` are published for whoever listens; no queue takes them.

The CDK app (production), the local stack's provisioning and the redrive tool all read this, so
the queue names, visibility timeouts, redrive counts and EventBridge rules cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections_shared.events import (
    AnalysisComplete,
    AnalysisRequested,
    Event,
    ImageProcessed,
    ReindexRequested,
    ReprocessRequested,
    event_tag,
)

MAX_RECEIVE_COUNT = 5
"""Receives before a message moves to its DLQ (the consumers fail the item on the last one)."""

RETENTION_SECONDS = 14 * 24 * 3600

VISIBILITY_TIMEOUT_SECONDS = 15
"""How long a received message stays hidden. Short on purpose: a handler that is alive extends it
every third of that (the heartbeat in :mod:`collections_shared.sqs`) however long its work takes,
so this only decides how soon a message held by a worker that died comes back (measured:
docs/reliability.md, "Crash recovery")."""


@dataclass(frozen=True)
class QueueSpec:
    consumer: str
    """The service that reads the queue."""
    visibility_timeout: int
    """Seconds (``VISIBILITY_TIMEOUT_SECONDS``); the heartbeat extends it while consumers work."""
    events: tuple[type[Event], ...]
    """The event types the bus routes here."""
    uploads: bool = False
    """Also receives the bucket's ``s3:ObjectCreated:*`` notifications."""

    @property
    def name(self) -> str:
        return f"collections-{self.consumer}"

    @property
    def detail_types(self) -> tuple[str, ...]:
        return tuple(event_tag(event) for event in self.events)


QUEUES = (
    QueueSpec("ingest", VISIBILITY_TIMEOUT_SECONDS, (ReprocessRequested,), uploads=True),
    QueueSpec("analyzer", VISIBILITY_TIMEOUT_SECONDS, (ImageProcessed, AnalysisRequested)),
    QueueSpec("embedder", VISIBILITY_TIMEOUT_SECONDS, (AnalysisComplete, ReindexRequested)),
)


def routes() -> dict[str, QueueSpec]:
    """EventBridge DetailType → the queue its rule targets."""
    return {detail_type: queue for queue in QUEUES for detail_type in queue.detail_types}


def upload_queue() -> QueueSpec:
    return next(queue for queue in QUEUES if queue.uploads)
