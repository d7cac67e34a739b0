"""Settings of the ingest worker: environment variables, ``INGEST_``-prefixed ones win."""

from __future__ import annotations

from collections_shared.settings import Port, PositiveInt, WorkerSettings

ENV_PREFIX = "INGEST_"


class Settings(WorkerSettings, frozen=True, kw_only=True):
    port: Port = 8001
    queue_name: str = "collections-ingest"
    """S3 notifications of new originals and ReprocessRequested events arrive here."""
    concurrency: PositiveInt = 2
    """Decoding is CPU-bound and runs in threads; about one per core."""
    max_pixels: PositiveInt = 50_000_000
    """Images declaring more pixels are refused from their header, before any decoding."""
    max_bytes: PositiveInt = 25 * 1024 * 1024
    reconcile_interval_seconds: PositiveInt = 30
    stuck_after_seconds: PositiveInt = 300
    """An item that has not moved for this long is re-driven by the reconciler."""
    max_redrives: PositiveInt = 3
    """After this many re-drives a stuck item is marked failed (``stuck``)."""
    upload_grace_seconds: PositiveInt = 20 * 60
    """How long a presigned upload may stay pending before it is failed as never uploaded."""
