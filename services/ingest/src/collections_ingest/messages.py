"""What arrives on the ingest queue: S3 notifications (URL-encoded keys) and re-process events."""

from __future__ import annotations

import uuid

import msgspec

from collections_shared.domain.keys import decode_event_key, parse_original_key
from collections_shared.events import ReprocessRequested
from collections_shared.sqs import PoisonMessageError
from collections_shared.worker import parse_event_message


class ObjectCreated(msgspec.Struct, frozen=True, kw_only=True):
    """An original landed in the bucket (PUT from the gateway or a browser's presigned POST)."""

    user_id: str
    item_id: uuid.UUID
    key: str
    size: int
    correlation_id: str = ""


class _S3Object(msgspec.Struct, frozen=True):
    key: str
    size: int = 0


class _S3Entity(msgspec.Struct, frozen=True):
    object: _S3Object


class _S3Record(msgspec.Struct, frozen=True, rename={"event_name": "eventName"}):
    s3: _S3Entity
    event_name: str = ""


class _S3Notification(msgspec.Struct, frozen=True, rename={"records": "Records", "event": "Event"}):
    records: list[_S3Record] | None = None
    event: str | None = None
    detail: dict[str, object] | None = None


_notification = msgspec.json.Decoder(_S3Notification)

IngestWork = ObjectCreated | ReprocessRequested


def parse_ingest_message(body: str) -> list[IngestWork]:
    """Work items in a message; S3's test event and non-original keys (derivatives) give none."""
    try:
        notification = _notification.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise PoisonMessageError(f"not an S3 notification or event: {error}") from error
    if notification.detail is not None:
        return [
            event for event in parse_event_message(body) if isinstance(event, ReprocessRequested)
        ]
    work: list[IngestWork] = []
    for record in notification.records or []:
        if not record.event_name.startswith("ObjectCreated"):
            continue
        key = decode_event_key(record.s3.object.key)
        original = parse_original_key(key)
        if original is not None:
            work.append(
                ObjectCreated(
                    user_id=original.user_id,
                    item_id=original.item_id,
                    key=key,
                    size=record.s3.object.size,
                )
            )
    return work
