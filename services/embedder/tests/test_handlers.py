"""The embedder's decisions: what document it embeds, what it skips, one vector per item and model.

Against PostgreSQL and the emulator, with the real Voyage SDK pointed at a local fake of the API,
so every provider call is counted and failures can be scripted.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import pytest
from structlog.testing import capture_logs

from collections_devtools.fakes.voyage import FakeVoyage, Reply
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_embedder.handlers import EmbedderHandler
from collections_embeddings.document import embedding_document
from collections_embeddings.voyage import VoyageEmbeddingProvider
from collections_shared.db import Pool, create_pool, tenant_transaction
from collections_shared.domain.analysis import Analysis, Provenance
from collections_shared.errors import PermanentError, TransientError
from collections_shared.events import AnalysisComplete, utc_now
from collections_shared.publisher import EventPublisher
from collections_shared.repository.analyses import insert_analysis

TAKEN = datetime(2024, 7, 14, 18, 30, tzinfo=UTC)
BEACH = Analysis(
    category="photo",
    summary="Two kids build a sandcastle on a beach at sunset.",
    description="Children kneel by a large sandcastle; waves and an orange sky behind them.",
    tags=["beach", "sandcastle", "sunset"],
    objects=["person", "bucket"],
    colors=["orange", "blue"],
    setting="beach at sunset",
)
SNOW = Analysis(category="photo", summary="A pine forest under fresh snow.", tags=["snow"])


@dataclass
class Embedder:
    handler: EmbedderHandler
    pool: Pool
    owner: asyncpg.Connection
    voyage: FakeVoyage
    user_id: str

    async def item(self, filename: str = "grand-canyon-trip.jpg") -> uuid.UUID:
        item_id = uuid.uuid4()
        await self.owner.execute(
            """INSERT INTO items (id, user_id, status, original_key, filename, taken_at)
               VALUES ($1, $2, 'analyzed', $3, $4, $5)""",
            item_id, self.user_id, f"{self.user_id}/images/{item_id}.jpg", filename, TAKEN,
        )  # fmt: skip
        return item_id

    async def analyze(self, item_id: uuid.UUID, analysis: Analysis) -> AnalysisComplete:
        """Store a new analysis version as the analyzer does; the event announcing it."""
        async with tenant_transaction(self.pool, self.user_id) as connection:
            stored = await insert_analysis(
                connection,
                user_id=self.user_id,
                item_id=item_id,
                source_event_id=uuid.uuid4(),
                analysis=analysis,
                provenance=Provenance(provider="local", model="test", prompt_version="v1"),
            )
        return AnalysisComplete(
            event_id=uuid.uuid4(),
            occurred_at=utc_now(),
            user_id=self.user_id,
            item_id=item_id,
            correlation_id="req-1",
            analysis_id=stored.id,
            version=stored.version,
        )

    async def embeddings(self, item_id: uuid.UUID) -> list[asyncpg.Record]:
        return await self.owner.fetch(
            "SELECT id, analysis_id, model, dimensions, document FROM embeddings"
            " WHERE item_id = $1",
            item_id,
        )

    async def status(self, item_id: uuid.UUID) -> str:
        status: str = await self.owner.fetchval("SELECT status FROM items WHERE id = $1", item_id)
        return status


@pytest.fixture(name="voyage")
def fx_voyage() -> Iterator[FakeVoyage]:
    with FakeVoyage() as fake:
        yield fake


@pytest.fixture(name="embedder")
async def fx_embedder(
    database: DatabaseUnderTest, aws: AwsStack, voyage: FakeVoyage
) -> AsyncIterator[Embedder]:
    pool = await create_pool(database.app_dsn)
    owner = await asyncpg.connect(database.owner_dsn)
    provider = VoyageEmbeddingProvider(api_key=voyage.api_key, base_url=voyage.url, timeout=5)
    try:
        async with aws.clients.client("events") as events:
            publisher = EventPublisher(events, bus_name="collections", source="collections.test")
            handler = EmbedderHandler(pool, publisher, provider)
            yield Embedder(handler, pool, owner, voyage, f"user-{uuid.uuid4().hex[:8]}")
    finally:
        await owner.close()
        await pool.close()


async def test_the_latest_analysis_is_embedded_as_its_document(embedder: Embedder) -> None:
    """The stored vector is of the document built from the analysis, file name and date."""
    item_id = await embedder.item()
    await embedder.handler.dispatch(await embedder.analyze(item_id, BEACH))
    (row,) = await embedder.embeddings(item_id)
    expected = embedding_document(BEACH, filename="grand-canyon-trip.jpg", taken_at=TAKEN)
    assert expected == row["document"]
    assert [[expected]] == [request.texts for request in embedder.voyage.requests]
    assert ["document"] == [request.input_type for request in embedder.voyage.requests]
    assert ("voyage-3.5-lite", 1024) == (row["model"], row["dimensions"])
    assert "searchable" == await embedder.status(item_id)


async def test_an_analysis_that_is_no_longer_the_latest_is_skipped(embedder: Embedder) -> None:
    """An event for a superseded analysis computes nothing and leaves the item as it is."""
    item_id = await embedder.item()
    older = await embedder.analyze(item_id, BEACH)
    await embedder.analyze(item_id, SNOW)
    with capture_logs() as logs:
        await embedder.handler.dispatch(older)
    assert [("embedding_skipped", "superseded")] == [(e["event"], e["reason"]) for e in logs]
    assert [] == embedder.voyage.requests
    assert [] == await embedder.embeddings(item_id)
    assert "analyzed" == await embedder.status(item_id)


async def test_one_vector_per_item_and_model(embedder: Embedder) -> None:
    """A newer analysis replaces the item's vector; a redelivery computes nothing again."""
    item_id = await embedder.item()
    first = await embedder.analyze(item_id, BEACH)
    await embedder.handler.dispatch(first)
    second = await embedder.analyze(item_id, SNOW)
    await embedder.handler.dispatch(second)
    await embedder.handler.dispatch(second)  # at-least-once delivery
    rows = await embedder.embeddings(item_id)
    assert [second.analysis_id] == [row["analysis_id"] for row in rows]
    assert 2 == len(embedder.voyage.requests)
    assert "A pine forest under fresh snow." in rows[0]["document"]


async def test_a_rate_limit_is_retried_later_and_a_refusal_fails_the_item(
    embedder: Embedder,
) -> None:
    """429 is a TransientError carrying Retry-After; a 400 is permanent; nothing is stored."""
    item_id = await embedder.item()
    event = await embedder.analyze(item_id, BEACH)
    embedder.voyage.script(Reply.rate_limited(retry_after="12"), Reply.error(400, "bad input"))
    with pytest.raises(TransientError) as transient:
        await embedder.handler.dispatch(event)
    with pytest.raises(PermanentError) as permanent:
        await embedder.handler.dispatch(event)
    assert ("rate_limited", 12.0) == (transient.value.code, transient.value.retry_after)
    assert "request_rejected" == permanent.value.code
    assert [] == await embedder.embeddings(item_id)
    assert "analyzed" == await embedder.status(item_id)
