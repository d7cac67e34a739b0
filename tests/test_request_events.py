"""Requests for work are events with ids from the request, and the workers handle them idempotently.

The gateway, ingest, analyzer and embedder run in-process on a real database and the AWS
emulator, with the Anthropic and Voyage SDKs pointed at local fakes. Each queue is drained by
hand through the worker's real parse/dispatch/fail, so a test decides when the analyzer runs
(a retry "before the analyzer ran" is exactly that) and knows when every message was handled.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from collections_analyzer.handlers import AnalyzerHandler
from collections_analyzer.providers.chain import ProviderSettings, build_chain
from collections_devtools.fakes.anthropic import FakeAnthropic
from collections_devtools.fakes.voyage import FakeVoyage
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_devtools.testing.images import jpeg
from collections_embedder.handlers import EmbedderHandler
from collections_embeddings.voyage import VoyageEmbeddingProvider
from collections_gateway.app import create_app
from collections_gateway.settings import Settings as GatewaySettings
from collections_ingest.handlers import IngestHandler
from collections_ingest.messages import parse_ingest_message
from collections_ingest.settings import Settings as IngestSettings
from collections_shared.db import Pool, create_pool
from collections_shared.events import ImageProcessed, decode_envelope
from collections_shared.publisher import EventPublisher
from collections_shared.repository.items import get_item
from collections_shared.sqs import ReceivedMessage
from collections_shared.worker import MessageWorker, parse_event_message

BUCKET = "collections-images"


@dataclass
class Pipeline:
    api: TestClient
    pool: Pool
    owner: Pool
    sqs: Any
    events: Any
    queues: dict[str, str]
    workers: dict[str, MessageWorker[Any]]
    anthropic: FakeAnthropic
    voyage: FakeVoyage
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The event details each queue delivered, in order."""

    async def drain(self, consumer: str) -> int:
        """Hand every message of ``consumer``'s queue to its worker, as the SQS consumer does."""
        url, handled = self.queues[f"collections-{consumer}"], 0
        while True:
            response = await self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            for message in response.get("Messages", []):
                body = message["Body"]
                if "detail" in msgspec.json.decode(body):
                    detail = msgspec.to_builtins(decode_envelope(body).detail)
                    self.seen.setdefault(consumer, []).append(detail)
                await self.workers[consumer](
                    ReceivedMessage(
                        message_id=message["MessageId"],
                        receipt_handle=message["ReceiptHandle"],
                        body=body,
                        receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                        max_receive_count=5,
                    )
                )
                await self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                handled += 1
            if not response.get("Messages"):
                return handled

    async def settle(self) -> None:
        """Run the stages until no queue has anything left."""
        while sum([await self.drain(stage) for stage in ("ingest", "analyzer", "embedder")]):
            pass

    def requests(self, consumer: str, kind: str) -> list[str]:
        """Event ids of the ``kind`` events ``consumer`` was handed."""
        return [d["event_id"] for d in self.seen.get(consumer, []) if d["type"] == kind]

    async def versions(self, item_id: str) -> list[int]:
        async with self.owner.acquire() as connection:
            rows = await connection.fetch(
                "SELECT version FROM analyses WHERE item_id = $1 ORDER BY version",
                uuid.UUID(item_id),
            )
        return [row["version"] for row in rows]

    async def vectors(self, item_id: str) -> list[tuple[str, uuid.UUID, uuid.UUID]]:
        """(model, embedding id, analysis id) of each stored vector of the item."""
        async with self.owner.acquire() as connection:
            rows = await connection.fetch(
                "SELECT model, id, analysis_id FROM embeddings WHERE item_id = $1 ORDER BY model",
                uuid.UUID(item_id),
            )
        return [(row["model"], row["id"], row["analysis_id"]) for row in rows]


@pytest.fixture(name="pipeline")
async def fx_pipeline(database: DatabaseUnderTest, aws: AwsStack) -> AsyncIterator[Pipeline]:
    with FakeAnthropic() as anthropic, FakeVoyage() as voyage:
        async with AsyncExitStack() as stack:
            pool = await create_pool(database.app_dsn, max_size=4)
            stack.push_async_callback(pool.close)
            owner = await create_pool(database.owner_dsn, max_size=2)
            stack.push_async_callback(owner.close)
            s3 = await stack.enter_async_context(aws.clients.client("s3"))
            sqs = await stack.enter_async_context(aws.clients.client("sqs"))
            events = await stack.enter_async_context(aws.clients.client("events"))
            workers = await _workers(
                stack, pool, s3=s3, events=events, anthropic=anthropic, voyage=voyage
            )
            api = await stack.enter_async_context(
                AsyncTestClient(app=create_app(_gateway_settings(database, aws)))
            )
            yield Pipeline(
                api=api,
                pool=pool,
                owner=owner,
                sqs=sqs,
                events=events,
                queues=aws.outputs.queue_urls,
                workers=workers,
                anthropic=anthropic,
                voyage=voyage,
            )


def _gateway_settings(database: DatabaseUnderTest, aws: AwsStack) -> GatewaySettings:
    return GatewaySettings(
        database_url=database.app_dsn,
        aws_endpoint_url=aws.endpoint,
        cognito_user_pool_id=aws.outputs.user_pool_id,
        cognito_client_id=aws.outputs.app_client_id,
        local_signup_auto_confirm=True,
        log_format="json",
    )


async def _workers(
    stack: AsyncExitStack,
    pool: Pool,
    *,
    s3: Any,
    events: Any,
    anthropic: FakeAnthropic,
    voyage: FakeVoyage,
) -> dict[str, MessageWorker[Any]]:
    def publisher(service: str) -> EventPublisher:
        return EventPublisher(events, bus_name="collections", source=f"collections.{service}")

    chain = build_chain(
        ProviderSettings(
            providers=["anthropic"],
            anthropic_api_key="test-key",
            anthropic_base_url=anthropic.url,
            timeout_seconds=5.0,
            tagger_enabled=False,
        )
    )
    stack.push_async_callback(chain.aclose)
    ingest = IngestHandler(pool, s3, publisher("ingest"), IngestSettings(bucket=BUCKET))
    analyzer = AnalyzerHandler(pool, s3, publisher("analyzer"), chain, bucket=BUCKET)
    embedder = EmbedderHandler(pool, publisher("embedder"), _voyage(voyage, "voyage-3.5-lite"))
    return {
        "ingest": MessageWorker(
            parse=parse_ingest_message, dispatch=ingest.dispatch, fail=ingest.fail
        ),
        "analyzer": MessageWorker(
            parse=parse_event_message, dispatch=analyzer.dispatch, fail=analyzer.fail
        ),
        "embedder": MessageWorker(
            parse=parse_event_message, dispatch=embedder.dispatch, fail=embedder.fail
        ),
    }


def _voyage(fake: FakeVoyage, model: str) -> VoyageEmbeddingProvider:
    return VoyageEmbeddingProvider(api_key=fake.api_key, base_url=fake.url, model=model, timeout=5)


async def _searchable_item(pipeline: Pipeline, seed: int) -> tuple[ApiUser, str]:
    """A new user's upload, run through every stage."""
    user = await sign_up(pipeline.api, f"requests-{uuid.uuid4().hex[:8]}@example.com")
    response = await upload(pipeline.api, user, jpeg(160, 120, seed=seed))
    assert 202 == response.status_code, response.text
    item_id: str = response.json()["id"]
    await pipeline.settle()
    item = (await pipeline.api.get(f"/items/{item_id}", headers=user.headers)).json()
    assert ("searchable", 1) == (item["status"], item["analysis"]["version"]), item
    return user, item_id


async def _analyze(pipeline: Pipeline, user: ApiUser, item_id: str, key: str | None) -> None:
    headers = {**user.headers, **({"Idempotency-Key": key} if key else {})}
    response = await pipeline.api.post(f"/items/{item_id}/analyze", headers=headers)
    assert 202 == response.status_code, response.text


async def test_reanalysis_retried_with_the_same_key_makes_one_version(pipeline: Pipeline) -> None:
    """Two POSTs with one Idempotency-Key are one request: one new version, one model call."""
    user, item_id = await _searchable_item(pipeline, seed=11)
    calls = len(pipeline.anthropic.requests)
    await _analyze(pipeline, user, item_id, "reanalyze-1")
    await _analyze(pipeline, user, item_id, "reanalyze-1")
    await pipeline.settle()
    requested = pipeline.requests("analyzer", "AnalysisRequested")
    assert 2 == len(requested)
    assert 1 == len(set(requested))
    assert [1, 2] == await pipeline.versions(item_id)
    assert calls + 1 == len(pipeline.anthropic.requests)
    await _analyze(pipeline, user, item_id, "reanalyze-1")  # after the analyzer ran, too
    await pipeline.settle()
    assert [1, 2] == await pipeline.versions(item_id)
    item = (await pipeline.api.get(f"/items/{item_id}", headers=user.headers)).json()
    assert ("searchable", 2) == (item["status"], item["analysis"]["version"])
    ((_, _, embedded),) = await pipeline.vectors(item_id)
    assert item["analysis"]["id"] == str(embedded)


async def test_a_keyless_retry_before_the_analyzer_ran_makes_one_version(
    pipeline: Pipeline,
) -> None:
    """Without a key, repeats before the analyzer ran ask for the same version; later ones not."""
    user, item_id = await _searchable_item(pipeline, seed=12)
    await _analyze(pipeline, user, item_id, None)
    await _analyze(pipeline, user, item_id, None)
    await pipeline.settle()
    assert [1, 2] == await pipeline.versions(item_id)
    await _analyze(pipeline, user, item_id, None)  # the user asks again: a new version
    await pipeline.settle()
    assert [1, 2, 3] == await pipeline.versions(item_id)
    first, retry, again = pipeline.requests("analyzer", "AnalysisRequested")
    assert first == retry != again


async def test_different_keys_are_different_requests(pipeline: Pipeline) -> None:
    """Two keys are two requests, so two new versions."""
    user, item_id = await _searchable_item(pipeline, seed=13)
    await _analyze(pipeline, user, item_id, "first")
    await _analyze(pipeline, user, item_id, "second")
    await pipeline.settle()
    assert [1, 2, 3] == await pipeline.versions(item_id)


async def test_rebuild_twice_adds_no_vectors_and_a_new_model_gets_one(
    pipeline: Pipeline,
) -> None:
    """Rebuilds re-index nothing that is current; after a model change, one vector per model."""
    user, item_id = await _searchable_item(pipeline, seed=14)
    before = await pipeline.vectors(item_id)
    embedded = len(pipeline.voyage.requests)
    for _ in range(2):
        response = await pipeline.api.post("/index/rebuild", headers=user.headers)
        assert (202, 1) == (response.status_code, response.json()["queued"])
    await pipeline.settle()
    reindex = pipeline.requests("embedder", "ReindexRequested")
    assert (2, 1) == (len(reindex), len(set(reindex)))
    assert before == await pipeline.vectors(item_id)
    assert embedded == len(pipeline.voyage.requests)
    pipeline.workers["embedder"] = _embedder_with(pipeline, "voyage-3.5")
    for _ in range(2):
        await pipeline.api.post("/index/rebuild", headers=user.headers)
    await pipeline.settle()
    models = [model for model, _, _ in await pipeline.vectors(item_id)]
    assert ["voyage-3.5", "voyage-3.5-lite"] == models
    assert embedded + 1 == len(pipeline.voyage.requests)


def _embedder_with(pipeline: Pipeline, model: str) -> MessageWorker[Any]:
    publisher = EventPublisher(pipeline.events, bus_name="collections", source="collections.t")
    handler = EmbedderHandler(pipeline.pool, publisher, _voyage(pipeline.voyage, model))
    return MessageWorker(parse=parse_event_message, dispatch=handler.dispatch, fail=handler.fail)


async def test_a_queued_force_reanalysis_from_before_makes_one_version(pipeline: Pipeline) -> None:
    """An ``ImageProcessed(force=True)`` still queued at deploy time makes its one new version."""
    user, item_id = await _searchable_item(pipeline, seed=15)
    async with pipeline.pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT set_config('app.user_id', $1, true)", user.user_id)
        item = await get_item(connection, uuid.UUID(item_id))
    assert item is not None
    legacy = msgspec.structs.replace(
        ImageProcessed.build(item, bucket=BUCKET), event_id=uuid.uuid4(), force=True
    )
    publisher = EventPublisher(pipeline.events, bus_name="collections", source="collections.t")
    await publisher.publish(legacy, legacy)
    await pipeline.settle()
    assert [1, 2] == await pipeline.versions(item_id)
    assert Counter(pipeline.requests("analyzer", "ImageProcessed"))[str(legacy.event_id)] == 2
