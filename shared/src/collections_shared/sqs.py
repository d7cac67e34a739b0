"""A long-polling SQS consumer: bounded concurrency, visibility heartbeat, delete only on success.

Outcomes of one message (the handler decides by what it raises):

- returns: the work is done; the message is deleted.
- :class:`TransientError` (or anything unexpected): the message stays; its visibility is set to
  an exponential backoff (or the error's ``retry_after``), so it comes back later. After
  ``maxReceiveCount`` receives the queue's redrive policy moves it to the DLQ.
- :class:`PoisonMessageError`: the body cannot be understood; it is left alone so the redrive policy
  parks it in the DLQ, where a person can look at it.

While a handler runs, a heartbeat extends the message's visibility every third of the timeout
(retrying within a second when a call fails), so no second consumer receives it mid-flight and the
timeout itself can be short: a worker killed while holding a message loses it for one timeout at
most (15 s by default, :mod:`collections_shared.topology`). Should SQS hand a message this
consumer already holds back to it anyway (a heartbeat that came too late), the running handler
keeps it under the newer receipt handle instead of a second handler starting. On shutdown the loop
stops receiving and waits for in-flight handlers (the drain) before returning.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from collections_shared import metrics
from collections_shared.errors import TransientError
from collections_shared.logging import get_logger

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import MessageTypeDef

log = get_logger(__name__)

_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
_MAX_BATCH = 10
_HEARTBEATS_PER_TIMEOUT = 3
_HEARTBEAT_RETRY_SECONDS = 1.0


class PoisonMessageError(Exception):
    """The message body is not something this consumer can ever process."""


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    max_receive_count: int
    queue: str = ""
    """The queue's name (the last part of its URL), for logs, metrics and traces."""
    sent_at: float | None = None
    """When the message was first sent (epoch seconds), if SQS said."""

    @property
    def is_last_attempt(self) -> bool:
        """True when a failure now sends the message to the DLQ."""
        return self.receive_count >= self.max_receive_count


Handler = Callable[[ReceivedMessage], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    queue_url: str
    concurrency: int = 4
    wait_seconds: int = 20
    visibility_timeout: int = 60
    max_receive_count: int = 5
    backoff_base: float = 2.0
    backoff_max: float = 300.0
    drain_timeout: float = 30.0
    not_ready_pause: float = 1.0


def queue_name(url: str) -> str:
    """The name of the queue at ``url`` (its last path segment)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(slots=True)
class _Lease:
    """A message this consumer holds, under its most recent receipt handle."""

    message: ReceivedMessage
    receipt_handle: str = field(default="")

    def __post_init__(self) -> None:
        self.receipt_handle = self.receipt_handle or self.message.receipt_handle


def backoff_seconds(receive_count: int, base: float, cap: float) -> int:
    """Full-jitter exponential backoff for the ``receive_count``-th failure."""
    ceiling = min(cap, base * (2 ** max(receive_count - 1, 0)))
    return max(1, round(random.uniform(ceiling / 2, ceiling)))  # noqa: S311 - jitter, not crypto


class SqsConsumer:
    """Receives from one queue and runs ``handler`` on each message, at most N at a time."""

    def __init__(
        self,
        client: SQSClient,
        config: ConsumerConfig,
        handler: Handler,
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._client = client
        self._config = config
        self._handler = handler
        self._ready = ready
        self._in_flight: set[asyncio.Task[None]] = set()
        self._leases: dict[str, _Lease] = {}
        self._queue = queue_name(config.queue_url)
        self.task: asyncio.Task[None] | None = None
        """The task running :meth:`run`, when started by :func:`running_consumer`."""
        self.processed = 0
        self.failed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then drain in-flight work."""
        failures = 0
        while not stop.is_set():
            if self._ready is not None and not await self._ready():
                # A dependency is down: receiving now would only spend receive counts toward the
                # DLQ. Wait until it is back; messages stay safely in the queue meanwhile.
                await _wait_or_stop(stop, self._config.not_ready_pause)
                continue
            if self._free_slots() == 0:
                await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                messages = await self._receive(stop)
                failures = 0
            except (BotoCoreError, ClientError, OSError) as error:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("sqs_receive_failed", error=str(error), retry_in_s=delay)
                await _wait_or_stop(stop, delay)
                continue
            for message in messages:
                if self._renew_lease(message):
                    continue
                task = asyncio.create_task(self._process(message))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
        await self._drain()

    def _renew_lease(self, message: ReceivedMessage) -> bool:
        """True if the message is already being handled here: it continues under the new handle."""
        lease = self._leases.get(message.message_id)
        if lease is None:
            return False
        lease.receipt_handle = message.receipt_handle
        log.warning(
            "sqs_redelivered_while_held",
            message_id=message.message_id,
            receive_count=message.receive_count,
        )
        return True

    def _free_slots(self) -> int:
        return max(0, self._config.concurrency - len(self._in_flight))

    async def _receive(self, stop: asyncio.Event) -> list[ReceivedMessage]:
        receive = asyncio.ensure_future(
            self._client.receive_message(
                QueueUrl=self._config.queue_url,
                MaxNumberOfMessages=min(_MAX_BATCH, self._free_slots()),
                WaitTimeSeconds=self._config.wait_seconds,
                VisibilityTimeout=self._config.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        )
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({receive, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if receive not in done:
            # Cancelling would not stop the server: it would still complete the long poll and hand
            # a message to a request nobody reads, hidden for a whole visibility timeout. Let the
            # poll end (at most wait_seconds) and give back whatever it brought at once.
            try:
                response = await receive
            except (BotoCoreError, ClientError, OSError):
                return []
            for raw in response.get("Messages", []):
                message = self._parse(raw)
                if not self._renew_lease(message):
                    await self._change_visibility(message.receipt_handle, message, 0)
            return []
        response = receive.result()
        messages = [self._parse(raw) for raw in response.get("Messages", [])]
        self._record_lag(messages)
        return messages

    def _parse(self, raw: MessageTypeDef) -> ReceivedMessage:
        attributes = raw.get("Attributes", {})
        sent = attributes.get("SentTimestamp")
        return ReceivedMessage(
            message_id=raw["MessageId"],
            receipt_handle=raw["ReceiptHandle"],
            body=raw.get("Body", ""),
            receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
            max_receive_count=self._config.max_receive_count,
            queue=self._queue,
            sent_at=int(sent) / 1000 if sent and sent.isdigit() else None,
        )

    def _record_lag(self, messages: list[ReceivedMessage]) -> None:
        """The age of the oldest message received now; 0 when the poll found the queue empty."""
        now = time.time()
        ages = [max(0.0, now - m.sent_at) for m in messages if m.sent_at is not None]
        for age in ages:
            metrics.QUEUE_MESSAGE_AGE.labels(self._queue).observe(age)
        metrics.QUEUE_LAG.labels(self._queue).set(max(ages, default=0.0))

    async def _process(self, message: ReceivedMessage) -> None:
        lease = self._leases[message.message_id] = _Lease(message)
        heartbeat = asyncio.create_task(self._heartbeat(lease))
        in_flight = metrics.MESSAGES_IN_FLIGHT.labels(self._queue)
        in_flight.inc()
        try:
            await self._handler(message)
        except PoisonMessageError as error:
            self.failed += 1
            log.error("sqs_poison_message", message_id=message.message_id, error=str(error))
        except TransientError as error:
            self.failed += 1
            await self._retry_later(lease, error.retry_after, error)
        except Exception as error:
            self.failed += 1
            log.exception("sqs_handler_crashed", message_id=message.message_id)
            await self._retry_later(lease, None, error)
        else:
            self.processed += 1
            await self._delete(lease)
        finally:
            heartbeat.cancel()
            in_flight.dec()
            del self._leases[message.message_id]

    async def _heartbeat(self, lease: _Lease) -> None:
        interval = max(1.0, self._config.visibility_timeout / _HEARTBEATS_PER_TIMEOUT)
        while True:
            await asyncio.sleep(interval)
            # A failed extension is retried at once (within a second) rather than a period later:
            # two periods without one and the message would be visible again.
            while not await self._set_visibility(lease, self._config.visibility_timeout):  # noqa: ASYNC110 - polling SQS, not waiting for an event
                await asyncio.sleep(_HEARTBEAT_RETRY_SECONDS)

    async def _retry_later(
        self, lease: _Lease, retry_after: float | None, error: BaseException
    ) -> None:
        message = lease.message
        delay = backoff_seconds(
            message.receive_count, self._config.backoff_base, self._config.backoff_max
        )
        if retry_after is not None:
            delay = max(delay, round(retry_after))
        if message.is_last_attempt:
            delay = 0  # let the redrive policy move it to the DLQ on the next receive
        log.warning(
            "sqs_message_retry_scheduled",
            message_id=message.message_id,
            receive_count=message.receive_count,
            retry_in_s=delay,
            error=str(error),
        )
        await self._set_visibility(lease, delay)

    async def _set_visibility(self, lease: _Lease, seconds: int) -> bool:
        return await self._change_visibility(lease.receipt_handle, lease.message, seconds)

    async def _change_visibility(
        self, receipt_handle: str, message: ReceivedMessage, seconds: int
    ) -> bool:
        """Set the message's visibility timeout; False (logged) if SQS did not take it."""
        try:
            await self._client.change_message_visibility(
                QueueUrl=self._config.queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=min(seconds, _MAX_VISIBILITY_SECONDS),
            )
        except (BotoCoreError, ClientError, OSError) as error:
            log.warning(
                "sqs_visibility_change_failed", message_id=message.message_id, error=str(error)
            )
            return False
        return True

    async def _delete(self, lease: _Lease) -> None:
        try:
            await self._client.delete_message(
                QueueUrl=self._config.queue_url, ReceiptHandle=lease.receipt_handle
            )
        except (BotoCoreError, ClientError) as error:
            # The work is done and idempotent: a redelivery will find it done.
            log.warning("sqs_delete_failed", message_id=lease.message.message_id, error=str(error))

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        log.info("sqs_draining", in_flight=len(self._in_flight))
        _, pending = await asyncio.wait(set(self._in_flight), timeout=self._config.drain_timeout)
        for task in pending:
            task.cancel()
        log.info("sqs_drained", abandoned=len(pending))


async def _wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
