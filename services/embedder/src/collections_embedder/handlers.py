"""Embedder: ``AnalysisComplete`` → a vector of the item's latest analysis → ``EmbeddingComplete``.

An analysis that is no longer the item's latest is skipped (a newer one is on its way), and a
vector already stored for this analysis and model is not computed again.
"""

from __future__ import annotations

import math

from collections_embedder import repository
from collections_embeddings.base import MISCONFIGURED, EmbeddingError, EmbeddingProvider
from collections_embeddings.document import embedding_document
from collections_shared.db import Pool, tenant_transaction
from collections_shared.errors import PermanentError, TransientError
from collections_shared.events import (
    AnalysisComplete,
    AnyEvent,
    EmbeddingComplete,
    derived_event_id,
    utc_now,
)
from collections_shared.health import Degradations
from collections_shared.logging import get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.repository.items import set_status
from collections_shared.worker import item_failer

log = get_logger(__name__)


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
            case AnalysisComplete():
                await self.embed(event)
            case _:
                log.info("event_ignored", detail_type=type(event).__name__)

    async def embed(self, event: AnalysisComplete) -> None:
        model = self._provider.model
        async with tenant_transaction(self._pool, event.user_id) as connection:
            target = await repository.load_analysis(connection, event.analysis_id)
            done = (
                await repository.existing_embedding(
                    connection, event.item_id, model, event.analysis_id
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
            document = embedding_document(
                target.analysis, filename=target.filename, taken_at=target.taken_at
            )
            vector = await self._vector(document)
            async with tenant_transaction(self._pool, event.user_id) as connection:
                done = await repository.upsert_embedding(
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
        else:
            async with tenant_transaction(self._pool, event.user_id) as connection:
                await set_status(
                    connection, event.item_id, "searchable", allowed_from=("analyzed",)
                )
        await self._publisher.publish(
            EmbeddingComplete(
                event_id=derived_event_id(done, event.analysis_id, "EmbeddingComplete"),
                occurred_at=utc_now(),
                user_id=event.user_id,
                item_id=event.item_id,
                correlation_id=event.correlation_id,
                embedding_id=done,
                model=model,
            )
        )

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
