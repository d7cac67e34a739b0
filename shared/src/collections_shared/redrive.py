"""Move messages from a dead-letter queue back to its source queue, after a fix.

``python -m collections_shared.redrive collections-analyzer`` (or ``--all``) moves every message
of ``<queue>-dlq`` back to ``<queue>``, body and attributes unchanged. The consumers are
idempotent and treat an item failed for a retryable reason as work to resume, so a redriven
message finishes the item or fails it again with its reason. ``--dry-run`` only counts.
Uses ``AWS_ENDPOINT_URL`` like the services (the local stack prints it; unset means real AWS).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from collections_shared.aws import AwsClients
from collections_shared.topology import QUEUES

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import (
        DeleteMessageBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

_BATCH = 10


async def redrive(sqs: SQSClient, queue: str, *, dry_run: bool = False) -> int:
    """Move (or, dry, count) every visible message of ``queue``'s DLQ; returns how many."""
    source = (await sqs.get_queue_url(QueueName=queue))["QueueUrl"]
    dlq = (await sqs.get_queue_url(QueueName=f"{queue}-dlq"))["QueueUrl"]
    if dry_run:
        attributes = await sqs.get_queue_attributes(
            QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    moved = 0
    while True:
        response = await sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=_BATCH, WaitTimeSeconds=0, VisibilityTimeout=60
        )
        messages = response.get("Messages", [])
        if not messages:
            return moved
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": message["Body"]}
            for index, message in enumerate(messages)
        ]
        sent = await sqs.send_message_batch(QueueUrl=source, Entries=entries)
        succeeded = {entry["Id"] for entry in sent.get("Successful", [])}
        # Delete only what arrived in the source queue; the rest stays in the DLQ.
        done: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
            if str(index) in succeeded
        ]
        if done:
            await sqs.delete_message_batch(QueueUrl=dlq, Entries=done)
        moved += len(done)
        if len(done) < len(messages):
            return moved


async def _main(queues: list[str], dry_run: bool) -> None:
    aws = AwsClients(
        region=os.environ.get("AWS_REGION", "us-east-1"),
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
    )
    async with aws.client("sqs") as sqs:
        for queue in queues:
            count = await redrive(sqs, queue, dry_run=dry_run)
            verb = "would move" if dry_run else "moved"
            sys.stdout.write(f"{queue}-dlq: {verb} {count} message(s) back to {queue}\n")


def main(argv: list[str] | None = None) -> None:
    known = [queue.name for queue in QUEUES]
    parser = argparse.ArgumentParser(
        prog="redrive", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("queue", nargs="?", choices=known, help="the source queue")
    parser.add_argument("--all", action="store_true", help="every queue")
    parser.add_argument("--dry-run", action="store_true", help="count, move nothing")
    args = parser.parse_args(argv)
    if not args.all and not args.queue:
        parser.error(f"name a queue ({', '.join(known)}) or pass --all")
    asyncio.run(_main(known if args.all else [args.queue], args.dry_run))


if __name__ == "__main__":
    main()
