"""What ingest makes of its queue's messages: S3 notifications, S3's test event, re-processing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from collections_ingest.messages import ObjectCreated, parse_ingest_message
from collections_shared.events import ImageProcessed, ReprocessRequested, detail_type, encode_event
from collections_shared.sqs import PoisonMessageError

ITEM = uuid.UUID("0b6a3c4e-1f2d-4e5a-9b8c-7d6e5f4a3b2c")
USER = "us-east-1:5f0c2a1e-user"


def _notification(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def _record(key: str, event_name: str = "ObjectCreated:Put", size: int = 1234) -> dict[str, Any]:
    """One record as S3 writes it: the key URL-encoded as in a form (space as '+')."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": event_name,
        "s3": {"bucket": {"name": "collections-images"}, "object": {"key": key, "size": size}},
    }


def _envelope(event: Any) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "1",
            "detail-type": detail_type(event),
            "source": "collections.gateway",
            "detail": msgspec.json.decode(encode_event(event)),
        }
    )


def test_an_original_becomes_work_for_its_owner_and_item() -> None:
    """A new original names its owner, item, decoded key and size; ':' arrives as %3A."""
    body = _notification(_record(f"us-east-1%3A5f0c2a1e-user/images/{ITEM}.jpg"))
    assert [
        ObjectCreated(user_id=USER, item_id=ITEM, key=f"{USER}/images/{ITEM}.jpg", size=1234)
    ] == parse_ingest_message(body)


def test_form_encoded_keys_are_decoded_before_they_are_parsed() -> None:
    """'+' is a space and %40 an '@' in S3's encoding; a key that decodes to no original is none."""
    plus = _notification(_record(f"someone+else/images/{ITEM}.jpg"))
    at = parse_ingest_message(_notification(_record(f"me%40example.com/images/{ITEM}.png")))
    assert [] == parse_ingest_message(plus)  # "someone else" is not a possible owner
    assert ["me@example.com"] == [work.user_id for work in at]


def test_s3_test_event_is_no_work() -> None:
    """The s3:TestEvent S3 sends when notifications are configured is acknowledged as nothing."""
    body = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2026-01-01T00:00:00.000Z",
            "Bucket": "collections-images",
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }
    )
    assert [] == parse_ingest_message(body)


@pytest.mark.parametrize(
    "record",
    [
        _record(f"{USER}/derived/{ITEM}/thumbnail.webp"),
        _record(f"{USER}/images/{ITEM}.jpg", event_name="ObjectRemoved:Delete"),
        _record(f"../images/{ITEM}.jpg"),
        _record(f"{USER}/images/not-a-uuid.jpg"),
        _record(f"{USER}/images/{ITEM}.jpg/extra"),
    ],
    ids=["derivative", "removed", "traversal", "not-an-item", "nested"],
)
def test_keys_and_events_that_are_not_new_originals_are_skipped(record: dict[str, Any]) -> None:
    """Derivatives ingest wrote itself, deletions and keys outside the layout give no work."""
    assert [] == parse_ingest_message(_notification(record))


def test_every_original_in_a_notification_is_work() -> None:
    """A notification with several records yields each original once, in order."""
    other = uuid.uuid4()
    body = _notification(
        _record(f"{USER}/images/{ITEM}.jpg"),
        _record(f"{USER}/derived/{ITEM}/preview.jpg"),
        _record(f"{USER}/images/{other}.heic", event_name="ObjectCreated:CompleteMultipartUpload"),
    )
    assert [ITEM, other] == [work.item_id for work in parse_ingest_message(body)]


def test_a_reprocess_request_from_the_bus_is_work() -> None:
    """ReprocessRequested in an EventBridge envelope comes out as the typed event."""
    event = ReprocessRequested(
        event_id=uuid.uuid4(),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        user_id=USER,
        item_id=ITEM,
        correlation_id="req-1",
        original_key=f"{USER}/images/{ITEM}.jpg",
    )
    assert [event] == parse_ingest_message(_envelope(event))


def test_other_events_on_the_bus_are_not_ingest_work() -> None:
    """An event routed here by mistake (not a re-process request) is acknowledged as nothing."""
    event = ImageProcessed(
        event_id=uuid.uuid4(),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        user_id=USER,
        item_id=ITEM,
        bucket="collections-images",
        original_key=f"{USER}/images/{ITEM}.jpg",
        derivative_keys={},
        width=1,
        height=1,
        mime_type="image/jpeg",
        sha256="0" * 64,
    )
    assert [] == parse_ingest_message(_envelope(event))


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}),
        json.dumps({"Records": [{"s3": {"object": {"key": 7}}}]}),
        json.dumps({"detail-type": "ReprocessRequested", "source": "x", "detail": {"a": 1}}),
    ],
    ids=["text", "array", "record-without-s3", "numeric-key", "bad-event"],
)
def test_undecodable_messages_are_poison(body: str) -> None:
    """A body that is neither a notification nor a valid event is poison (left for the DLQ)."""
    with pytest.raises(PoisonMessageError):
        parse_ingest_message(body)
