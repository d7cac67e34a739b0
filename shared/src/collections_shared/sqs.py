"""A long-polling SQS consumer: bounded concurrency, visibility heartbeat, delete only on success.

Outcomes of one message (the handler decides by what it raises):

- returns: the work is done; the message is deleted.
- :class:`TransientError` (or anything unexpected): the message stays; its visibility is set to
  an exponential backoff (or the error's ``retry_after``), so it comes back later. After
  ``maxReceiveCount`` receives the queue's redrive policy moves it to the DLQ.
- :class:`PoisonMessageError`: the body cannot be understood; it is left alone so the redrive policy
  parks it in the DLQ, where a person can look at it.

While a handler runs longer than half the visibility timeout, a heartbeat extends the timeout so
no second consumer receives the same message mid-flight. On shutdown the loop stops receiving and
waits for in-flight handlers (the drain) before returning.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from collections_shared.errors import TransientError
from collections_shared.logging import get_logger

log = get_logger(__name__)

_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
_MAX_BATCH = 10


class PoisonMessageError(Exception):
    """The message body is not something this consumer can ever process."""


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    max_receive_count: int

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


def backoff_seconds(receive_count: int, base: float, cap: float) -> int:
    """Full-jitter exponential backoff for the ``receive_count``-th failure."""
    ceiling = min(cap, base * (2 ** max(receive_count - 1, 0)))
    return max(1, round(random.uniform(ceiling / 2, ceiling)))  # noqa: S311 - jitter, not crypto


class SqsConsumer:
    """Receives from one queue and runs ``handler`` on each message, at most N at a time."""

    def __init__(
        self,
        client: Any,
        config: ConsumerConfig,
        handler: Handler,
        ready: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._client = client
        self._config = config
        self._handler = handler
        self._ready = ready
        self._in_flight: set[asyncio.Task[None]] = set()
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
                task = asyncio.create_task(self._process(message))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
        await self._drain()

    def _free_slots(self) -> int:
        return max(0, self._config.concurrency - len(self._in_flight))

    async def _receive(self, stop: asyncio.Event) -> list[ReceivedMessage]:
        receive = asyncio.ensure_future(
            self._client.receive_message(
                QueueUrl=self._config.queue_url,
                MaxNumberOfMessages=min(_MAX_BATCH, self._free_slots()),
                WaitTimeSeconds=self._config.wait_seconds,
                VisibilityTimeout=self._config.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
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
                await self._set_visibility(self._parse(raw), 0)
            return []
        response = receive.result()
        return [self._parse(raw) for raw in response.get("Messages", [])]

    def _parse(self, raw: dict[str, Any]) -> ReceivedMessage:
        return ReceivedMessage(
            message_id=raw["MessageId"],
            receipt_handle=raw["ReceiptHandle"],
            body=raw.get("Body", ""),
            receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            max_receive_count=self._config.max_receive_count,
        )

    async def _process(self, message: ReceivedMessage) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(message))
        try:
            await self._handler(message)
        except PoisonMessageError as error:
            self.failed += 1
            log.error("sqs_poison_message", message_id=message.message_id, error=str(error))
        except TransientError as error:
            self.failed += 1
            await self._retry_later(message, error.retry_after, error)
        except Exception as error:
            self.failed += 1
            log.exception("sqs_handler_crashed", message_id=message.message_id)
            await self._retry_later(message, None, error)
        else:
            self.processed += 1
            await self._delete(message)
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, message: ReceivedMessage) -> None:
        interval = max(1.0, self._config.visibility_timeout / 2)
        while True:
            await asyncio.sleep(interval)
            await self._set_visibility(message, self._config.visibility_timeout)

    async def _retry_later(
        self, message: ReceivedMessage, retry_after: float | None, error: BaseException
    ) -> None:
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
        await self._set_visibility(message, delay)

    async def _set_visibility(self, message: ReceivedMessage, seconds: int) -> None:
        try:
            await self._client.change_message_visibility(
                QueueUrl=self._config.queue_url,
                ReceiptHandle=message.receipt_handle,
                VisibilityTimeout=min(seconds, _MAX_VISIBILITY_SECONDS),
            )
        except (BotoCoreError, ClientError) as error:
            log.warning(
                "sqs_visibility_change_failed", message_id=message.message_id, error=str(error)
            )

    async def _delete(self, message: ReceivedMessage) -> None:
        try:
            await self._client.delete_message(
                QueueUrl=self._config.queue_url, ReceiptHandle=message.receipt_handle
            )
        except (BotoCoreError, ClientError) as error:
            # The work is done and idempotent: a redelivery will find it done.
            log.warning("sqs_delete_failed", message_id=message.message_id, error=str(error))

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
