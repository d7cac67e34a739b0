"""Embedder: ``AnalysisComplete`` or ``ReindexRequested`` → a vector of the item's latest analysis
→ ``EmbeddingComplete``.

One vector per item and model. An analysis that is no longer the item's latest is skipped (a newer
one is on its way), and nothing is computed when the stored vector already is of this analysis,
model and document: a redelivery, or a rebuild with nothing changed, only re-announces it. A
rebuild after the model or the embedding document changed embeds again.
"""

from __future__ import annotations

import math
import uuid

from collections_embedder import repository
from collections_embeddings.base import MISCONFIGURED, EmbeddingError, EmbeddingProvider
from collections_embeddings.document import embedding_document
from collections_shared.db import Pool, tenant_transaction
from collections_shared.errors import PermanentError, TransientError
from collections_shared.events import (
    AnalysisComplete,
    AnyEvent,
    EmbeddingComplete,
    ReindexRequested,
)
from collections_shared.health import Degradations
from collections_shared.logging import get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.repository.items import set_status
from collections_shared.worker import item_failer

log = get_logger(__name__)

EmbedCause = AnalysisComplete | ReindexRequested


class EmbedderHandler:
    def __init__(
        self,
        pool: Pool,
        publisher: EventPublisher,
        provider: EmbeddingProvider,
        degradations: Degradations | None = None,
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._provider = provider
        self._degradations = degradations or Degradations()
        self.fail = item_failer(pool, publisher, "embed")

    async def dispatch(self, event: AnyEvent) -> None:
        match event:
            case AnalysisComplete() | ReindexRequested():
                await self.embed(event)
            case _:
                log.info("event_ignored", detail_type=type(event).__name__)

    async def embed(self, event: EmbedCause) -> None:
        model = self._provider.model
        async with tenant_transaction(self._pool, event.user_id) as connection:
            target = await repository.load_analysis(connection, event.analysis_id)
            document = _document(target) if target else ""
            done = (
                await repository.current_embedding(
                    connection, event.item_id, model, event.analysis_id, document
                )
                if target
                else None
            )
        if target is None or not target.is_latest:
            log.info(
                "embedding_skipped", reason="analysis gone" if target is None else "superseded"
            )
            return
        if done is None:
            done = await self._store(event, model, document)
        else:
            async with tenant_transaction(self._pool, event.user_id) as connection:
                await set_status(
                    connection, event.item_id, "searchable", allowed_from=("analyzed",)
                )
        await self._publisher.publish(
            EmbeddingComplete.build(
                user_id=event.user_id,
                item_id=event.item_id,
                correlation_id=event.correlation_id,
                embedding_id=done,
                analysis_id=event.analysis_id,
                model=model,
            )
        )

    async def _store(self, event: EmbedCause, model: str, document: str) -> uuid.UUID:
        vector = await self._vector(document)
        async with tenant_transaction(self._pool, event.user_id) as connection:
            embedding_id = await repository.upsert_embedding(
                connection,
                user_id=event.user_id,
                item_id=event.item_id,
                analysis_id=event.analysis_id,
                model=model,
                vector=vector,
                document=document,
            )
            await set_status(
                connection,
                event.item_id,
                "searchable",
                allowed_from=("analyzed", "searchable", "failed"),
            )
        return embedding_id

    async def _vector(self, document: str) -> list[float]:
        try:
            vectors = await self._provider.embed_documents([document])
        except EmbeddingError as error:
            if error.code in MISCONFIGURED:
                # The item fails with this reason too; /health says it until the key works.
                self._degradations.degrade(self._provider.model, f"{error.code}: {error.message}")
            if error.retryable:
                raise TransientError(
                    error.code, error.message, retry_after=error.retry_after
                ) from error
            raise PermanentError(error.code, error.message) from error
        self._degradations.recover(self._provider.model)
        vector = vectors[0] if len(vectors) == 1 else []
        if len(vector) != self._provider.dimensions or not all(math.isfinite(v) for v in vector):
            raise PermanentError("malformed_embedding", "the provider returned an unusable vector")
        return [float(v) for v in vector]


def _document(target: repository.AnalysisForEmbedding) -> str:
    return embedding_document(target.analysis, filename=target.filename, taken_at=target.taken_at)
