"""One upload is one trace across gateway, ingest, analyzer and embedder; search and chat join too.

The services run in this process on a real PostgreSQL and the AWS emulator (S3 notifications,
EventBridge rules and SQS deliver the work as on the stack); search and chat serve real HTTP
(uvicorn) because the gateway and chat call them over the network. Spans go to an in-memory
exporter instead of OTLP.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from collections_analyzer.app import create_app as analyzer_app
from collections_analyzer.providers.chain import ProviderSettings
from collections_analyzer.settings import Settings as AnalyzerSettings
from collections_chat.app import create_app as chat_app
from collections_chat.settings import Settings as ChatSettings
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.client import TestClient
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest, free_port
from collections_devtools.testing.images import jpeg
from collections_embedder.app import create_app as embedder_app
from collections_embedder.settings import Settings as EmbedderSettings
from collections_embeddings.factory import EmbeddingSettings
from collections_gateway.app import create_app as gateway_app
from collections_gateway.settings import Settings as GatewaySettings
from collections_ingest.app import create_app as ingest_app
from collections_ingest.settings import Settings as IngestSettings
from collections_search.app import create_app as search_app
from collections_search.settings import Settings as SearchSettings
from collections_shared import tracing

pytestmark = [pytest.mark.timeout(300)]

LOCAL_EMBEDDINGS = EmbeddingSettings(provider="local")


@pytest.fixture(name="spans")
def fx_spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test, into memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.start(provider)
    try:
        yield exporter
    finally:
        tracing.stop()


def _common(database: DatabaseUnderTest, aws: AwsStack) -> dict[str, Any]:
    return {
        "database_url": database.app_dsn,
        "aws_endpoint_url": aws.endpoint,
        "cognito_user_pool_id": aws.outputs.user_pool_id,
        "cognito_client_id": aws.outputs.app_client_id,
        "log_format": "json",
    }


def _worker(aws: AwsStack, name: str) -> dict[str, Any]:
    return {"queue_url": aws.outputs.queue_urls[f"collections-{name}"], "wait_seconds": 1}


@asynccontextmanager
async def _serving(app: Litestar) -> AsyncIterator[str]:
    """``app`` on a real port, served by uvicorn in a thread of its own; its URL.

    Its own thread and event loop: the test client runs the gateway in another thread and blocks
    the test's loop while a request is in flight, so a server on that loop could not answer it.
    """
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)


@asynccontextmanager
async def _system(database: DatabaseUnderTest, aws: AwsStack) -> AsyncIterator[TestClient]:
    """Every service running in this process; the gateway's client."""
    common = _common(database, aws)
    async with AsyncExitStack() as stack:
        search = await stack.enter_async_context(
            _serving(search_app(SearchSettings(**common), LOCAL_EMBEDDINGS))
        )
        chat = await stack.enter_async_context(
            _serving(chat_app(ChatSettings(**common, search_url=search)))
        )
        workers = [
            ingest_app(IngestSettings(**common, **_worker(aws, "ingest"))),
            analyzer_app(
                AnalyzerSettings(**common, **_worker(aws, "analyzer")),
                ProviderSettings(providers="local", tagger_enabled=False),
            ),
            embedder_app(EmbedderSettings(**common, **_worker(aws, "embedder")), LOCAL_EMBEDDINGS),
        ]
        for worker in workers:
            await stack.enter_async_context(AsyncTestClient(app=worker))
        gateway = gateway_app(
            GatewaySettings(
                **common, local_signup_auto_confirm=True, search_url=search, chat_url=chat
            )
        )
        yield await stack.enter_async_context(AsyncTestClient(app=gateway))


async def _wait_searchable(database: DatabaseUnderTest, item_id: str, within: float = 120) -> None:
    owner = await asyncpg.connect(database.owner_dsn)
    try:
        deadline = time.monotonic() + within
        while (
            status := await owner.fetchval(
                "SELECT status FROM items WHERE id = $1", uuid.UUID(item_id)
            )
        ) != "searchable":
            assert status != "failed"
            assert time.monotonic() < deadline, f"still {status}"
            await asyncio.sleep(0.2)
    finally:
        await owner.close()


def _trace_of(spans: list[ReadableSpan], root_name: str) -> list[ReadableSpan]:
    """Every span in the trace whose root server span is named ``root_name``."""
    roots = [
        s for s in spans if s.name == root_name and s.kind is SpanKind.SERVER and s.parent is None
    ]
    assert roots, sorted({s.name for s in spans})
    trace_id = roots[-1].context.trace_id
    return [s for s in spans if s.context.trace_id == trace_id]


def _assert_connected(trace: list[ReadableSpan]) -> ReadableSpan:
    """One root; every other span's parent is in the trace. Returns the root."""
    ids = {span.context.span_id for span in trace}
    roots = [span for span in trace if span.parent is None]
    assert 1 == len(roots), [span.name for span in roots]
    orphans = [s.name for s in trace if s.parent is not None and s.parent.span_id not in ids]
    assert [] == orphans
    return roots[0]


def _ancestors(span: ReadableSpan, trace: list[ReadableSpan]) -> list[str]:
    by_id = {s.context.span_id: s for s in trace}
    names = []
    while span.parent is not None:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_one_upload_is_one_connected_trace_across_the_pipeline(
    database: DatabaseUnderTest, aws: AwsStack, spans: InMemorySpanExporter
) -> None:
    """POST /items, ingest, analyzer and embedder work and their events share one trace."""
    async with _system(database, aws) as client:
        user = await sign_up(client, f"trace-{uuid.uuid4().hex[:8]}@example.com")
        response = await upload(client, user, jpeg(640, 480, seed=3))
        assert 202 == response.status_code, response.text
        await _wait_searchable(database, response.json()["id"])
        await asyncio.sleep(0.5)  # the embedder's publish span ends after the status change
    trace = _trace_of(list(spans.get_finished_spans()), "POST /items")
    root = _assert_connected(trace)
    assert "POST /items" == root.name
    names = {span.name for span in trace}
    for expected in (
        "collections-ingest ObjectCreated",
        "publish ImageProcessed",
        "collections-analyzer ImageProcessed",
        "publish AnalysisComplete",
        "collections-embedder AnalysisComplete",
        "publish EmbeddingComplete",
    ):
        assert expected in names, sorted(names)
    embedder = next(s for s in trace if s.name == "collections-embedder AnalysisComplete")
    assert embedder.kind is SpanKind.CONSUMER
    assert [
        "publish AnalysisComplete",
        "collections-analyzer ImageProcessed",
        "publish ImageProcessed",
        "collections-ingest ObjectCreated",
        "POST /items",
    ] == _ancestors(embedder, trace)
    # Queries are spans of the work that ran them.
    assert any(s.attributes and s.attributes.get("db.system") == "postgresql" for s in trace)


async def _searched_and_chatted(client: TestClient, user: ApiUser) -> None:
    found = await client.post(
        "/search", json={"query": "a dog on a beach", "mode": "hybrid"}, headers=user.headers
    )
    assert 200 == found.status_code, found.text
    chatted = await client.post(
        "/chat", json={"message": "show me photos of dogs"}, headers=user.headers
    )
    assert 200 == chatted.status_code, chatted.text


async def test_search_and_chat_calls_join_the_callers_trace(
    database: DatabaseUnderTest, aws: AwsStack, spans: InMemorySpanExporter
) -> None:
    """gateway → search, and gateway → chat → search, are one trace each."""
    async with _system(database, aws) as client:
        user = await sign_up(client, f"trace-{uuid.uuid4().hex[:8]}@example.com")
        await _searched_and_chatted(client, user)
    finished = list(spans.get_finished_spans())
    search = _trace_of(finished, "POST /search")
    _assert_connected(search)
    servers = [s.name for s in search if s.kind is SpanKind.SERVER]
    assert ["POST /search", "POST /search"] == sorted(servers)  # the gateway's and search's
    chat = _trace_of(finished, "POST /chat")
    _assert_connected(chat)
    chat_servers = sorted(s.name for s in chat if s.kind is SpanKind.SERVER)
    assert ["POST /chat", "POST /chat", "POST /search"] == chat_servers
    inner_search = next(s for s in chat if s.name == "POST /search" and s.kind is SpanKind.SERVER)
    assert "POST /chat" in _ancestors(inner_search, chat)
