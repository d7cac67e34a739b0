"""The DLQ redrive command moves parked messages back to their queue, unchanged."""

from __future__ import annotations

from collections_devtools.testing.fixtures import AwsStack
from collections_shared.redrive import redrive


async def test_redrive_moves_every_message_back(aws: AwsStack) -> None:
    """Twelve messages in the analyzer DLQ all return to the analyzer queue with their bodies."""
    queue = "collections-analyzer"
    async with aws.clients.client("sqs") as sqs:
        for index in range(12):
            await sqs.send_message(QueueUrl=aws.outputs.dlq_urls[queue], MessageBody=f"m{index}")
        assert 12 == await redrive(sqs, queue, dry_run=True)
        assert 12 == await redrive(sqs, queue)
        bodies: set[str] = set()
        for _ in range(5):
            response = await sqs.receive_message(
                QueueUrl=aws.outputs.queue_urls[queue], MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            bodies |= {message["Body"] for message in response.get("Messages", [])}
        left = await redrive(sqs, queue, dry_run=True)
    assert {f"m{index}" for index in range(12)} == bodies
    assert 0 == left
