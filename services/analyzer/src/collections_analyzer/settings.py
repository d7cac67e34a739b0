"""Settings of the analyzer worker: environment variables, ``ANALYZER_``-prefixed ones win.

The provider chain (which providers, keys, models, retries) is configured separately by
:class:`collections_analyzer.providers.chain.ProviderSettings`.
"""

from __future__ import annotations

from collections_shared.settings import Port, PositiveInt, WorkerSettings

ENV_PREFIX = "ANALYZER_"


class Settings(WorkerSettings, frozen=True, kw_only=True):
    port: Port = 8002
    queue_name: str = "collections-analyzer"
    concurrency: PositiveInt = 4
    """Analyses wait on the network (LLM) or run in threads (local); a few at a time."""
