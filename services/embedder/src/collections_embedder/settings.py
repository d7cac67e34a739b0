"""Settings of the embedder worker: environment variables, ``EMBEDDER_``-prefixed ones win.

The embedding provider is configured by
:class:`collections_embeddings.factory.EmbeddingSettings`.
"""

from __future__ import annotations

from collections_shared.settings import Port, PositiveInt, WorkerSettings

ENV_PREFIX = "EMBEDDER_"


class Settings(WorkerSettings, frozen=True, kw_only=True):
    port: Port = 8003
    queue_name: str = "collections-embedder"
    concurrency: PositiveInt = 4
