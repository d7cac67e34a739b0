"""Any embedding provider, with each call counted and timed in ``/metrics``."""

from __future__ import annotations

from collections_embeddings.base import EmbeddingError, EmbeddingProvider
from collections_shared import metrics


class MeteredEmbeddings:
    """Delegates to ``inner``; calls, their duration and failures (by code) go to /metrics."""

    def __init__(self, inner: EmbeddingProvider, provider: str) -> None:
        self._inner = inner
        self._provider = provider
        self.model = inner.model
        self.dimensions = inner.dimensions

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with metrics.provider_call(self._provider, "embed_documents") as outcome:
            try:
                return await self._inner.embed_documents(texts)
            except EmbeddingError as error:
                outcome["outcome"] = error.code
                raise

    async def embed_query(self, text: str) -> list[float]:
        with metrics.provider_call(self._provider, "embed_query") as outcome:
            try:
                return await self._inner.embed_query(text)
            except EmbeddingError as error:
                outcome["outcome"] = error.code
                raise

    def __getattr__(self, name: str) -> object:
        # Anything else a provider offers (closing a client, say) is the inner provider's.
        return getattr(self._inner, name)
