"""The SQS consumer against the emulator: delete on success, backoff, DLQ, heartbeat, drain."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from collections_devtools.testing.fixtures import AwsStack
from collections_shared import metrics
from collections_shared.errors import PermanentError, TransientError, WorkerError
from collections_shared.sqs import ConsumerConfig, PoisonMessageError, ReceivedMessage, SqsConsumer
from collections_shared.worker import MessageWorker, running_consumer


@dataclass
class Queues:
    sqs: Any
    url: str
    dlq_url: str


@pytest.fixture(name="queues")
async def fx_queues(aws: AwsStack) -> AsyncIterator[Queues]:
    name = f"test-{uuid.uuid4().hex[:8]}"
    async with aws.clients.client("sqs") as sqs:
        dlq = (await sqs.create_queue(QueueName=f"{name}-dlq"))["QueueUrl"]
        dlq_arn = (await sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
        url = (await sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive}))[
            "QueueUrl"
        ]
        yield Queues(sqs, url, dlq)


def config(queues: Queues, **overrides: Any) -> ConsumerConfig:
    settings: dict[str, Any] = {
        "queue_url": queues.url,
        "wait_seconds": 1,
        "visibility_timeout": 2,
        "max_receive_count": 2,
        "backoff_base": 1,
        "backoff_max": 1,
        "drain_timeout": 10,
    }
    settings.update(overrides)
    return ConsumerConfig(**settings)


async def count(queues: Queues, url: str) -> int:
    attributes = await queues.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]) + int(
        values["ApproximateNumberOfMessagesNotVisible"]
    )


async def eventually(predicate: Any, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_successful_message_is_deleted(queues: Queues) -> None:
    """A handler that returns normally acknowledges (deletes) its message."""
    seen: list[str] = []

    async def handler(message: ReceivedMessage) -> None:
        seen.append(message.body)

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="hello")
    async with running_consumer(queues.sqs, config(queues), handler):
        await eventually(lambda: _true(seen))
    assert ["hello"] == seen
    assert 0 == await count(queues, queues.url)


async def _true(values: list[Any]) -> bool:
    return bool(values)


async def test_transient_failure_is_retried_with_a_higher_receive_count(queues: Queues) -> None:
    """A transient error leaves the message; it comes back and can then succeed."""
    counts: list[int] = []

    async def handler(message: ReceivedMessage) -> None:
        counts.append(message.receive_count)
        if len(counts) == 1:
            raise TransientError("flaky", "try again")

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="x")
    async with running_consumer(queues.sqs, config(queues), handler):
        await eventually(lambda: _len_at_least(counts, 2))
    assert [1, 2] == counts
    assert 0 == await count(queues, queues.url)


async def _len_at_least(values: list[Any], size: int) -> bool:
    return len(values) >= size


async def test_poison_message_ends_in_the_dlq(queues: Queues) -> None:
    """An undecodable message is never deleted; the redrive policy parks it in the DLQ."""

    async def handler(message: ReceivedMessage) -> None:
        raise PoisonMessageError("garbage")

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="garbage")
    async with running_consumer(queues.sqs, config(queues), handler):
        await eventually(lambda: _equals(count(queues, queues.dlq_url), 1), timeout=20)
    assert 0 == await count(queues, queues.url)


async def _equals(value: Any, expected: int) -> bool:
    return bool(await value == expected)


async def test_heartbeat_keeps_a_slow_message_invisible(queues: Queues) -> None:
    """While a handler outlives the visibility timeout, nobody else receives the message."""
    started = asyncio.Event()
    release = asyncio.Event()

    async def handler(message: ReceivedMessage) -> None:
        started.set()
        await release.wait()

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="slow")
    async with running_consumer(queues.sqs, config(queues, visibility_timeout=2), handler):
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(4.5)  # more than twice the visibility timeout
        stolen = await queues.sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=0)
        release.set()
    assert [] == stolen.get("Messages", [])
    assert 0 == await count(queues, queues.url)


async def test_shutdown_drains_in_flight_work(queues: Queues) -> None:
    """Stopping the consumer lets running handlers finish and acknowledge."""
    started = asyncio.Event()
    finished: list[bool] = []

    async def handler(message: ReceivedMessage) -> None:
        started.set()
        await asyncio.sleep(1)
        finished.append(True)

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="x")
    async with running_consumer(queues.sqs, config(queues), handler):
        await asyncio.wait_for(started.wait(), 10)
    assert [True] == finished
    assert 0 == await count(queues, queues.url)


@dataclass
class Work:
    user_id: str
    correlation_id: str
    fail_with: WorkerError | None = None


async def test_worker_fails_the_item_on_permanent_error_and_acknowledges(queues: Queues) -> None:
    """A permanent error marks the item failed at once and the message is deleted."""
    failures: list[str] = []

    async def dispatch(work: Work) -> None:
        raise PermanentError("corrupt_image", "truncated")

    async def fail(work: Work, error: WorkerError) -> None:
        failures.append(error.code)

    worker = MessageWorker(parse=lambda body: [Work("u", "c")], dispatch=dispatch, fail=fail)
    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="x")
    async with running_consumer(queues.sqs, config(queues), worker):
        await eventually(lambda: _true(failures))
    assert ["corrupt_image"] == failures
    assert 0 == await count(queues, queues.url)


async def test_worker_fails_the_item_before_the_last_transient_attempt_goes_to_the_dlq(
    queues: Queues,
) -> None:
    """When retries run out the item is marked failed, and the message lands in the DLQ."""
    failures: list[str] = []

    async def dispatch(work: Work) -> None:
        raise TransientError("provider_unavailable", "503")

    async def fail(work: Work, error: WorkerError) -> None:
        failures.append(error.code)

    worker = MessageWorker(parse=lambda body: [Work("u", "c")], dispatch=dispatch, fail=fail)
    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="x")
    async with running_consumer(queues.sqs, config(queues), worker):
        await eventually(lambda: _equals(count(queues, queues.dlq_url), 1), timeout=20)
    assert ["provider_unavailable"] == failures


def test_consumer_counts_start_at_zero(queues: Queues) -> None:
    """A new consumer has processed nothing."""
    consumer = SqsConsumer(queues.sqs, config(queues), handler=_noop)
    assert (0, 0) == (consumer.processed, consumer.failed)


async def _noop(message: ReceivedMessage) -> None:
    return None


async def test_a_consumer_that_is_not_ready_receives_nothing(queues: Queues) -> None:
    """While its dependency is down the consumer leaves messages in the queue, unreceived."""
    seen: list[str] = []

    async def handler(message: ReceivedMessage) -> None:
        seen.append(message.body)

    async def down() -> bool:
        return False

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="waits")
    async with running_consumer(queues.sqs, config(queues), handler, ready=down):
        await asyncio.sleep(2)
    response = await queues.sqs.receive_message(
        QueueUrl=queues.url,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    assert [] == seen
    assert ["waits"] == [message["Body"] for message in response.get("Messages", [])]
    assert "1" == response["Messages"][0]["Attributes"]["ApproximateReceiveCount"]


async def test_stopping_mid_poll_gives_back_what_the_poll_brought(queues: Queues) -> None:
    """A message arriving during the final long poll is visible again at once, not hidden."""

    async def handler(message: ReceivedMessage) -> None:
        raise AssertionError("a stopping consumer must not process new work")

    stop_during_poll = config(queues, wait_seconds=3, visibility_timeout=120)
    consumer = SqsConsumer(queues.sqs, stop_during_poll, handler)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="late")
    await task
    response = await queues.sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=1)
    assert ["late"] == [message["Body"] for message in response.get("Messages", [])]


async def test_a_message_redelivered_while_held_is_not_handled_twice(queues: Queues) -> None:
    """SQS handing back a message this consumer still works on starts no second handler; the
    running one finishes and deletes it under the newer receipt handle."""
    calls: list[str] = []
    exposed = asyncio.Event()
    release = asyncio.Event()

    async def handler(message: ReceivedMessage) -> None:
        calls.append(message.receipt_handle)
        # As if a heartbeat had come too late: the message is visible again mid-flight.
        await queues.sqs.change_message_visibility(
            QueueUrl=queues.url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )
        exposed.set()
        await release.wait()

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="once")
    async with running_consumer(
        queues.sqs, config(queues, visibility_timeout=30, max_receive_count=5), handler
    ):
        await asyncio.wait_for(exposed.wait(), 10)
        await asyncio.sleep(2.5)  # a couple of polls, each of which receives it again
        release.set()
        await eventually(lambda: _equals(count(queues, queues.url), 0), timeout=10)
    assert 1 == len(calls)


async def test_in_flight_and_lag_are_measured(queues: Queues) -> None:
    """While a handler runs the in-flight gauge is 1 and the lag is how long its message waited."""
    seen: list[tuple[float, float]] = []
    queue = queues.url.rsplit("/", 1)[-1]

    async def handler(message: ReceivedMessage) -> None:
        # Read before the consumer's next poll ends (it long-polls for a second).
        in_flight = metrics.MESSAGES_IN_FLIGHT.labels(queue)._value.get()
        seen.append((in_flight, metrics.QUEUE_LAG.labels(queue)._value.get()))

    await queues.sqs.send_message(QueueUrl=queues.url, MessageBody="x")
    await asyncio.sleep(1.5)  # the message waits in the queue
    async with running_consumer(queues.sqs, config(queues), handler):
        await eventually(lambda: _true(seen))
        await eventually(lambda: _gauge_is(metrics.MESSAGES_IN_FLIGHT.labels(queue), 0))
        await eventually(lambda: _gauge_is(metrics.QUEUE_LAG.labels(queue), 0), timeout=5)
    ((in_flight, lag),) = seen
    assert 1.0 == in_flight
    assert 1.4 <= lag < 15


async def _gauge_is(gauge: Any, value: float) -> bool:
    return bool(gauge._value.get() == value)


async def test_work_outcomes_are_counted_by_queue_kind_and_reason(queues: Queues) -> None:
    """Done and failed work each add one to collections_messages_total with their reason."""
    queue = queues.url.rsplit("/", 1)[-1]
    failed = metrics.MESSAGES.labels(queue, "Work", "failed", "bad_input")
    done = metrics.MESSAGES.labels(queue, "Work", "done", "")
    before = (failed._value.get(), done._value.get())

    def parse(body: str) -> list[Work]:
        error = PermanentError("bad_input", "no") if body == "bad" else None
        return [Work(user_id="u", correlation_id="c", fail_with=error)]

    async def dispatch(work: Work) -> None:
        if work.fail_with:
            raise work.fail_with

    async def fail(work: Work, error: WorkerError) -> None:
        return None

    worker = MessageWorker(parse=parse, dispatch=dispatch, fail=fail)
    for body in ("bad", "good"):
        await queues.sqs.send_message(QueueUrl=queues.url, MessageBody=body)
    async with running_consumer(queues.sqs, config(queues), worker):
        await eventually(lambda: _equals(count(queues, queues.url), 0))
    assert (before[0] + 1, before[1] + 1) == (failed._value.get(), done._value.get())
