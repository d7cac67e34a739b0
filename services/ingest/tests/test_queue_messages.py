"""What the ingest queue delivers becomes typed work in one decode: S3 notifications and events."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
import pytest

from collections_ingest import messages
from collections_ingest.messages import ObjectCreated, parse_ingest_message
from collections_shared.events import (
    AnalysisComplete,
    Event,
    ReprocessRequested,
    derived_event_id,
    detail_type,
    encode_event,
    utc_now,
)
from collections_shared.sqs import PoisonMessageError

USER = "7b0c-user"
ITEM = uuid.uuid4()


def s3_notification(*keys: str, event_name: str = "ObjectCreated:Post") -> str:
    records = [{"eventName": event_name, "s3": {"object": {"key": k, "size": 12}}} for k in keys]
    return json.dumps({"Records": records})


def delivered(event: Event | dict[str, Any], kind: str = "") -> str:
    """An EventBridge-to-SQS body carrying ``event``."""
    detail = event if isinstance(event, dict) else msgspec.json.decode(encode_event(event))
    return json.dumps(
        {
            "version": "0",
            "id": "1",
            "detail-type": kind or (detail_type(event) if isinstance(event, Event) else ""),
            "source": "collections.gateway",
            "detail": detail,
        }
    )


def reprocess() -> ReprocessRequested:
    return ReprocessRequested(
        event_id=derived_event_id(ITEM, "test"),
        occurred_at=utc_now(),
        user_id=USER,
        item_id=ITEM,
        original_key=f"{USER}/images/{ITEM}.png",
    )


def test_an_original_in_a_notification_is_work_and_a_derivative_is_not() -> None:
    """URL-encoded original keys become ObjectCreated; derivative keys and removals are skipped."""
    body = s3_notification(f"{USER}/images/{ITEM}.png", f"{USER}/derived/{ITEM}/preview.jpg")
    assert [
        ObjectCreated(user_id=USER, item_id=ITEM, key=f"{USER}/images/{ITEM}.png", size=12)
    ] == parse_ingest_message(body)
    removed = s3_notification(f"{USER}/images/{ITEM}.png", event_name="ObjectRemoved:Delete")
    assert [] == parse_ingest_message(removed)


def test_the_s3_test_event_is_no_work() -> None:
    """S3's test event, sent when a notification is configured, is acknowledged as nothing."""
    assert [] == parse_ingest_message(json.dumps({"Event": "s3:TestEvent", "Bucket": "b"}))


def test_a_reprocess_request_decodes_to_the_typed_event() -> None:
    """The EventBridge body gives the ReprocessRequested itself."""
    event = reprocess()
    assert [event] == parse_ingest_message(delivered(event))


def test_the_body_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """One JSON decode per message, whichever shape it has."""
    calls: list[str] = []
    decoder = messages._decoder

    class Counting:
        def decode(self, body: str) -> Any:
            calls.append(body)
            return decoder.decode(body)

    monkeypatch.setattr(messages, "_decoder", Counting())
    parse_ingest_message(delivered(reprocess()))
    parse_ingest_message(s3_notification(f"{USER}/images/{ITEM}.png"))
    assert 2 == len(calls)


def test_another_event_on_the_ingest_queue_is_ignored() -> None:
    """An event routed here by mistake is no work (and no poison)."""
    event = AnalysisComplete.build(
        user_id=USER, item_id=ITEM, correlation_id="", analysis_id=uuid.uuid4(), version=1
    )
    assert [] == parse_ingest_message(delivered(event))


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}),
        delivered({"type": "ReprocessRequested", "user_id": USER}, kind="ReprocessRequested"),
        json.dumps({"detail-type": "ReprocessRequested", "source": "collections.gateway"}),
    ],
    ids=["garbage", "record-without-object", "invalid-event", "envelope-without-detail"],
)
def test_undecodable_messages_are_poison(body: str) -> None:
    """Anything else is left for the redrive policy, never half-processed."""
    with pytest.raises(PoisonMessageError):
        parse_ingest_message(body)
