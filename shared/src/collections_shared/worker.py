"""From an SQS message to a typed unit of work, with failures turned into item states.

A worker service supplies three functions: ``parse`` (body → work items, or raise for poison),
``dispatch`` (do the work) and ``fail`` (record the item as ``failed`` with a reason). This module
binds the log context, times the work, writes the one canonical log line, and decides:

- :class:`PermanentError`: ``fail`` now; the message is deleted (retrying cannot help);
- :class:`TransientError` or a crash: retried with backoff; on the last attempt ``fail`` runs
  first, so when the message lands in the DLQ the user already sees why.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import msgspec

from collections_shared import metrics, tracing
from collections_shared.db import Pool, tenant_transaction
from collections_shared.errors import PermanentError, TransientError, WorkerError
from collections_shared.events import (
    AnyEvent,
    FailureReason,
    ItemFailed,
    Stage,
    decode_envelope,
)
from collections_shared.logging import bind_unit_of_work, get_logger
from collections_shared.publisher import EventPublisher
from collections_shared.repository.items import record_failure
from collections_shared.sqs import ConsumerConfig, PoisonMessageError, ReceivedMessage, SqsConsumer

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

log = get_logger("worker")


class WorkItem(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...


WorkT = TypeVar("WorkT", bound=WorkItem)


def parse_event_message(body: str) -> list[AnyEvent]:
    """Parse an EventBridge-to-SQS body into its event; anything else is poison."""
    try:
        return [decode_envelope(body).detail]
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise PoisonMessageError(f"not a valid event: {error}") from error


class MessageWorker(Generic[WorkT]):
    """Adapts ``parse``/``dispatch``/``fail`` into an :class:`SqsConsumer` handler."""

    def __init__(
        self,
        *,
        parse: Callable[[str], Sequence[WorkT]],
        dispatch: Callable[[WorkT], Awaitable[None]],
        fail: Callable[[WorkT, WorkerError], Awaitable[None]],
        trace_parent: Callable[[WorkT], Awaitable[str]] | None = None,
    ) -> None:
        """``trace_parent`` finds the trace context of work that carries none itself (an S3
        notification); it is only called while tracing is on."""
        self._parse = parse
        self._dispatch = dispatch
        self._fail = fail
        self._trace_parent = trace_parent

    async def __call__(self, message: ReceivedMessage) -> None:
        for work in self._parse(message.body):
            await self._handle(work, message)

    async def _handle(self, work: WorkT, message: ReceivedMessage) -> None:
        bind_unit_of_work(
            correlation_id=work.correlation_id or None,
            user_id=work.user_id,
            item_id=str(getattr(work, "item_id", "")) or None,
            event_id=str(getattr(work, "event_id", "")) or None,
            message_id=message.message_id,
        )
        kind = type(work).__name__
        if not tracing.enabled():
            await self._run(work, message, kind)
            return
        attributes = {
            "messaging.system": "aws_sqs",
            "messaging.destination.name": message.queue,
            "messaging.message.id": message.message_id,
            "collections.item_id": str(getattr(work, "item_id", "")),
        }
        parent = await self._find_trace_parent(work)
        with tracing.consumer_span(f"{message.queue} {kind}", parent, attributes):
            await self._run(work, message, kind)

    async def _find_trace_parent(self, work: WorkT) -> str:
        carried = getattr(work, "traceparent", "")
        if carried or self._trace_parent is None:
            return str(carried)
        try:
            return await self._trace_parent(work)
        except Exception:  # a trace link is never worth failing the work for
            log.warning("trace_parent_lookup_failed", exc_info=True)
            return ""

    async def _run(self, work: WorkT, message: ReceivedMessage, kind: str) -> None:
        started = time.perf_counter()
        try:
            await self._dispatch(work)
        except PermanentError as error:
            await self._fail(work, error)
            _log_outcome(kind, started, message, "failed", error)
            return
        except TransientError as error:
            await self._fail_if_last(work, message, error)
            _log_outcome(kind, started, message, "retry", error)
            raise
        except Exception as error:
            log.exception("work_crashed", kind=kind)
            crash = PermanentError("internal_error", str(error)[:300])
            await self._fail_if_last(work, message, crash)
            _count_outcome(kind, started, message, "retry", crash)
            raise
        _log_outcome(kind, started, message, "done", None)

    async def _fail_if_last(
        self, work: WorkT, message: ReceivedMessage, error: WorkerError
    ) -> None:
        if message.is_last_attempt:
            await self._fail(work, error)


def _log_outcome(
    kind: str, started: float, message: ReceivedMessage, outcome: str, error: WorkerError | None
) -> None:
    seconds = _count_outcome(kind, started, message, outcome, error)
    log.info(
        "work_processed",
        kind=kind,
        outcome=outcome,
        receive_count=message.receive_count,
        duration_ms=round(seconds * 1000, 2),
        error_code=error.code if error else None,
        error=error.message if error else None,
    )


def _count_outcome(
    kind: str, started: float, message: ReceivedMessage, outcome: str, error: WorkerError | None
) -> float:
    """Count the outcome in ``/metrics``; the work's duration in seconds."""
    seconds = time.perf_counter() - started
    metrics.MESSAGES.labels(message.queue, kind, outcome, error.code if error else "").inc()
    metrics.WORK_DURATION.labels(message.queue, kind).observe(seconds)
    return seconds


@asynccontextmanager
async def running_consumer(
    client: SQSClient,
    config: ConsumerConfig,
    handler: Callable[[ReceivedMessage], Awaitable[None]],
    ready: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[SqsConsumer]:
    """Run a consumer in the background for the duration of the context, then drain it."""
    consumer = SqsConsumer(client, config, handler, ready)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop), name="sqs-consumer")
    consumer.task = task
    try:
        yield consumer
    finally:
        stop.set()
        await task


def consumer_alive(consumer: SqsConsumer) -> Callable[[], Awaitable[None]]:
    """A health check that fails if the consumer loop has stopped."""

    async def check() -> None:
        if consumer.task is None or consumer.task.done():
            msg = "consumer loop is not running"
            raise RuntimeError(msg)

    return check


async def fail_item(
    pool: Pool,
    publisher: EventPublisher,
    *,
    user_id: str,
    item_id: uuid.UUID,
    stage: Stage,
    error: WorkerError,
    correlation_id: str = "",
) -> None:
    """Record a terminal failure and announce it with ``ItemFailed`` (once per failure)."""
    async with tenant_transaction(pool, user_id) as connection:
        generation = await record_failure(connection, item_id, stage, error.code, error.message)
    if generation is None:
        return
    await publisher.publish(
        ItemFailed.build(
            user_id=user_id,
            item_id=item_id,
            correlation_id=correlation_id,
            stage=stage,
            reason=FailureReason(code=error.code, message=error.message[:1000]),
            generation=generation,
        )
    )


class _Failable(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def item_id(self) -> uuid.UUID: ...
    @property
    def correlation_id(self) -> str: ...


def item_failer(
    pool: Pool, publisher: EventPublisher, stage: Stage
) -> Callable[[_Failable, WorkerError], Awaitable[None]]:
    """The ``fail`` of a worker stage: mark the work's item failed with the error's reason."""

    async def fail(work: _Failable, error: WorkerError) -> None:
        await fail_item(
            pool,
            publisher,
            user_id=work.user_id,
            item_id=work.item_id,
            stage=stage,
            error=error,
            correlation_id=work.correlation_id,
        )

    return fail
