"""Traces: internal services continue the caller's context, the public one never; events too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from collections_shared import tracing
from collections_shared.events import ReprocessRequested, decode_event, utc_now
from collections_shared.http import create_service_app
from collections_shared.publisher import EventPublisher

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(name="spans")
def fx_spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.start(provider)
    try:
        yield exporter
    finally:
        tracing.stop()


@get("/hello")
async def hello() -> dict[str, str]:
    return {"traceparent": tracing.current_traceparent()}


@pytest.mark.parametrize(("public", "continued"), [(False, True), (True, False)])
async def test_only_internal_services_continue_an_inbound_traceparent(
    spans: InMemorySpanExporter, public: bool, continued: bool
) -> None:
    """A server span joins the caller's trace on an internal service; the gateway starts anew."""
    app = create_service_app(service="t", route_handlers=[hello], public=public)
    async with AsyncTestClient(app=app) as client:
        answer = (await client.get("/hello", headers={"traceparent": CALLER})).json()
    (server,) = [span for span in spans.get_finished_spans() if span.name == "GET /hello"]
    caller_trace = int(CALLER.split("-")[1], 16)
    assert continued == (server.context.trace_id == caller_trace)
    assert (server.parent is not None) == continued
    assert f"{server.context.trace_id:032x}" in answer["traceparent"]


def test_nothing_is_recorded_when_tracing_is_off() -> None:
    """Without a provider there is no context to hand on, and no endpoint means no provider."""
    assert "" == tracing.current_traceparent()
    assert not tracing.configure("t", environ={})
    assert not tracing.enabled()


class _Bus:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto's name
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"} for _ in Entries]}


async def test_published_events_carry_the_producer_spans_context(
    spans: InMemorySpanExporter,
) -> None:
    """Each event leaves with the traceparent of the publish span, a child of the caller's."""
    bus = _Bus()
    publisher = EventPublisher(bus, bus_name="b", source="collections.test")
    event = ReprocessRequested(
        event_id=uuid.uuid4(),
        occurred_at=utc_now(),
        user_id="u",
        item_id=uuid.uuid4(),
        original_key="u/images/x.jpg",
    )
    await publisher.publish(event)
    (entry,) = bus.entries
    carried = decode_event(entry["Detail"]).traceparent
    (publish,) = spans.get_finished_spans()
    assert "publish ReprocessRequested" == publish.name
    assert f"{publish.context.span_id:016x}" == carried.split("-")[2]
