"""OpenTelemetry traces: off unless an OTLP endpoint is configured, then one trace per upload.

Tracing starts when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``
is set (the standard variables; the OTLP/HTTP exporter also reads ``OTEL_EXPORTER_OTLP_HEADERS``,
``..._TIMEOUT`` and the rest, and the SDK ``OTEL_TRACES_SAMPLER``). Without one, nothing is
recorded and the request path pays one function call.

How one upload becomes one trace:

- every HTTP request is a server span named after its route template (the request middleware
  of :mod:`collections_shared.http`). Internal services continue the caller's context from the
  ``traceparent`` header; the public gateway never does, so a client cannot join or force-sample
  a trace;
- outgoing HTTP (gateway → search/chat, chat → search, provider SDKs on httpx) carries
  ``traceparent`` (``opentelemetry-instrumentation-httpx``); queries are spans
  (``opentelemetry-instrumentation-asyncpg``);
- the gateway stores the upload request's context on the item (``items.traceparent``), which
  ingest continues when S3 announces the object;
- every event carries ``traceparent`` next to ``correlation_id``: the publisher fills it from
  its producer span, and the consuming worker's span continues it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_SCOPE = "collections"

_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None


def configure(service: str, environ: Mapping[str, str] | None = None) -> bool:
    """Start exporting this process's spans if an OTLP endpoint is configured; True if tracing.

    Called by every service's app factory; the first call that finds an endpoint starts it, and
    later ones (several apps in one process) keep it.
    """
    if _provider is not None:
        return True
    env = os.environ if environ is None else environ
    if not any(env.get(name) for name in ENDPOINT_VARIABLES):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,  # only imported where tracing is on
    )

    name = env.get("OTEL_SERVICE_NAME") or f"collections-{service}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    start(provider)
    return True


def start(provider: TracerProvider) -> None:
    """Record spans with ``provider`` from now on, and trace httpx and asyncpg calls."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor  # noqa: PLC0415
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415

    global _provider, _tracer  # noqa: PLW0603 - one tracer per process, set once
    _provider = provider
    _tracer = provider.get_tracer(_SCOPE)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]


def stop() -> None:
    """Stop recording (and undo the library instrumentation); flushes what is buffered."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor  # noqa: PLC0415
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415

    global _provider, _tracer
    if _provider is None:
        return
    HTTPXClientInstrumentor().uninstrument()
    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    _provider.force_flush()
    _provider, _tracer = None, None


def enabled() -> bool:
    return _tracer is not None


def _extract(traceparent: str) -> Any:
    return propagate.extract({"traceparent": traceparent}) if traceparent else None


def current_traceparent() -> str:
    """The W3C ``traceparent`` of the span in progress, or "" when none is recording."""
    if _tracer is None:
        return ""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent", "")


@contextmanager
def server_span(
    method: str, route: str, headers: Mapping[str, str] | None
) -> Iterator[Span | None]:
    """A server span for one request; continues the caller's context when ``headers`` is given."""
    if _tracer is None:
        yield None
        return
    context = propagate.extract(headers) if headers is not None else None
    attributes = {"http.request.method": method, "http.route": route}
    with _tracer.start_as_current_span(
        f"{method} {route}", context=context, kind=SpanKind.SERVER, attributes=attributes
    ) as span:
        yield span


def finish_server_span(span: Span | None, status: int) -> None:
    if span is None:
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


@contextmanager
def consumer_span(
    name: str, traceparent: str, attributes: Mapping[str, str]
) -> Iterator[Span | None]:
    """The span of one unit of queued work, continuing the context its message carried."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(
        name, context=_extract(traceparent), kind=SpanKind.CONSUMER, attributes=dict(attributes)
    ) as span:
        yield span


@contextmanager
def producer_span(name: str, attributes: Mapping[str, str]) -> Iterator[str]:
    """A span for publishing; yields its ``traceparent`` for the messages ("" when off)."""
    if _tracer is None:
        yield ""
        return
    with _tracer.start_as_current_span(name, kind=SpanKind.PRODUCER, attributes=dict(attributes)):
        yield current_traceparent()
