"""What arrives on the ingest queue: S3 notifications (URL-encoded keys) and re-process events.

One decoder reads both shapes in one pass: an S3 notification has ``Records`` (or ``Event`` for
S3's test event), an EventBridge delivery has ``detail-type`` and a ``detail`` that decodes
straight to the typed event.
"""

from __future__ import annotations

import uuid

import msgspec

from collections_shared.domain.keys import decode_event_key, parse_original_key
from collections_shared.events import AnyEvent, ReprocessRequested
from collections_shared.logging import get_logger
from collections_shared.sqs import PoisonMessageError

log = get_logger(__name__)


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


class _IngestMessage(
    msgspec.Struct,
    frozen=True,
    rename={"records": "Records", "event": "Event", "detail_type": "detail-type"},
):
    """An S3 notification or an EventBridge delivery; the fields of the other shape stay unset."""

    records: list[_S3Record] | None = None
    event: str | None = None
    detail_type: str | None = None
    detail: AnyEvent | None = None


_decoder = msgspec.json.Decoder(_IngestMessage)

IngestWork = ObjectCreated | ReprocessRequested


def parse_ingest_message(body: str) -> list[IngestWork]:
    """Work items in a message; S3's test event and non-original keys (derivatives) give none."""
    try:
        message = _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise PoisonMessageError(f"not an S3 notification or event: {error}") from error
    if message.detail_type is not None and message.detail is None:
        raise PoisonMessageError("an EventBridge message without its event")
    match message.detail:
        case ReprocessRequested() as request:
            return [request]
        case None:
            return _objects_created(message.records or [])
        case other:
            log.info("event_ignored", detail_type=type(other).__name__)
            return []


def _objects_created(records: list[_S3Record]) -> list[IngestWork]:
    work: list[IngestWork] = []
    for record in records:
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
