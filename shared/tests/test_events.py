"""Events round-trip through the tagged union, evolve without breaking old consumers, and every
producer's builder derives the same id for the same fact or request."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from collections_shared import events
from collections_shared.domain.item import ItemRecord
from collections_shared.events import (
    EVENT_TYPES,
    AnalysisComplete,
    AnalysisRequested,
    EmbeddingComplete,
    FailureReason,
    ImageProcessed,
    ItemFailed,
    ReindexRequested,
    ReprocessRequested,
    decode_envelope,
    decode_event,
    detail_type,
    encode_event,
    event_tag,
)

FIXTURES = Path(__file__).parent / "fixtures" / "events"
USER = "0f8e4f1c-user"
ITEM_ID = uuid.uuid4()
ANALYSIS_ID = uuid.uuid4()
WHO = {"user_id": USER, "item_id": ITEM_ID, "correlation_id": "req-123"}


def item(**changes: Any) -> ItemRecord:
    """A processed item row, as the repository returns it."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": ITEM_ID,
        "user_id": USER,
        "status": "processed",
        "failure_stage": None,
        "failure_code": None,
        "failure_message": None,
        "filename": "i.jpg",
        "declared_content_type": "image/jpeg",
        "size_bytes": 1000,
        "original_key": f"{USER}/images/{ITEM_ID}.jpg",
        "mime_type": "image/jpeg",
        "width": 640,
        "height": 480,
        "sha256": "a" * 64,
        "derivative_keys": {"preview": f"{USER}/derived/{ITEM_ID}/preview.jpg"},
        "taken_at": None,
        "camera_make": None,
        "camera_model": None,
        "exif": {},
        "gps_latitude": None,
        "gps_longitude": None,
        "duplicate_of": None,
        "imported_analysis": None,
        "category": None,
        "latest_analysis_id": None,
        "correlation_id": "req-123",
        "generation": 0,
        "redrive_count": 0,
        "idempotency_key": None,
        "created_at": now,
        "updated_at": now,
        "status_changed_at": now,
    }
    return ItemRecord(**(values | changes))


SAMPLES: list[events.Event] = [
    ImageProcessed.build(item(), bucket="b"),
    AnalysisRequested.build(**WHO, idempotency_key="k-1", next_version=2),
    AnalysisComplete.build(**WHO, analysis_id=ANALYSIS_ID, version=2),
    ReindexRequested.build(**WHO, analysis_id=ANALYSIS_ID),
    EmbeddingComplete.build(
        **WHO, embedding_id=uuid.uuid4(), analysis_id=ANALYSIS_ID, model="local"
    ),
    ItemFailed.build(
        **WHO,
        stage="ingest",
        reason=FailureReason(code="corrupt_image", message="truncated JPEG"),
        generation=0,
    ),
    ReprocessRequested.build(item()),
]


def eventbridge_body(event: events.Event, source: str = "collections.test") -> bytes:
    """The SQS message body an EventBridge rule delivers for ``event``."""
    return msgspec.json.encode(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type(event),
            "source": source,
            "account": "123456789012",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": msgspec.json.decode(encode_event(event)),
        }
    )


def test_every_event_type_has_a_sample() -> None:
    """The round-trip tests below cover every member of the union."""
    assert set(EVENT_TYPES) == {type(sample) for sample in SAMPLES}


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).__name__)
def test_event_round_trips_and_carries_its_tag(event: events.Event) -> None:
    """Encoding then decoding gives the same event, and the detail names its type."""
    data = encode_event(event)
    assert event == decode_event(data)
    assert detail_type(event) == msgspec.json.decode(data)["type"]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).__name__)
def test_event_round_trips_through_the_eventbridge_envelope(event: events.Event) -> None:
    """The body EventBridge delivers to SQS decodes straight to the same typed event."""
    envelope = decode_envelope(eventbridge_body(event))
    assert (event, detail_type(event)) == (envelope.detail, envelope.detail_type)


def _fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def test_every_event_type_has_a_published_fixture() -> None:
    """Each tag in the union has a frozen example of what producers publish."""
    tags = {json.loads(path.read_text())["detail-type"] for path in _fixtures()}
    assert {event_tag(event_type) for event_type in EVENT_TYPES} <= tags


@pytest.mark.parametrize("path", _fixtures(), ids=lambda path: path.name)
def test_published_fixture_still_decodes_with_every_field(path: Path) -> None:
    """A message as once published decodes with today's code and keeps every field it had.

    Fixtures are never edited once committed: they are what producers really published (and
    what may still sit in a queue or DLQ). A change that breaks one needs a new versioned tag.
    """
    body = json.loads(path.read_text())
    event = decode_envelope(path.read_bytes()).detail
    assert body["detail-type"] == detail_type(event)
    assert event == decode_event(msgspec.json.encode(body["detail"]))
    decoded = msgspec.to_builtins(event)
    assert {key: decoded.get(key) for key in body["detail"]} == body["detail"]


def _published(name: str) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads((FIXTURES / name).read_text())["detail"]
    return detail


def test_fact_builders_keep_the_ids_producers_published() -> None:
    """Builders derive the ids facts always had, so analyses keyed by them still match."""
    published = _published("ImageProcessed.v1.json")
    record = item(id=uuid.UUID(published["item_id"]), user_id=published["user_id"])
    assert published["event_id"] == str(ImageProcessed.build(record, bucket="b").event_id)
    who = {"user_id": published["user_id"], "item_id": record.id, "correlation_id": ""}
    complete = _published("AnalysisComplete.v1.json")
    analysis_id = uuid.UUID(complete["analysis_id"])
    built = AnalysisComplete.build(**who, analysis_id=analysis_id, version=complete["version"])
    assert complete["event_id"] == str(built.event_id)
    embedded = _published("EmbeddingComplete.v1.json")
    built_embedding = EmbeddingComplete.build(
        **who,
        embedding_id=uuid.UUID(embedded["embedding_id"]),
        analysis_id=analysis_id,
        model=embedded["model"],
    )
    assert embedded["event_id"] == str(built_embedding.event_id)
    failed = _published("ItemFailed.v1.json")
    reason = FailureReason(**failed["reason"])
    built_failure = ItemFailed.build(**who, stage="ingest", reason=reason, generation=0)
    assert failed["event_id"] == str(built_failure.event_id)


def test_request_builders_derive_ids_from_the_request() -> None:
    """A retried request gets the id it had; another key or a later version is another request."""
    first = AnalysisRequested.build(**WHO, idempotency_key="k-1", next_version=2)
    assert first.event_id == SAMPLES[1].event_id
    other_key = AnalysisRequested.build(**WHO, idempotency_key="k-2", next_version=2)
    assert first.event_id != other_key.event_id
    blind = AnalysisRequested.build(**WHO, idempotency_key=None, next_version=2).event_id
    assert blind == AnalysisRequested.build(**WHO, idempotency_key="", next_version=2).event_id
    assert blind != AnalysisRequested.build(**WHO, idempotency_key=None, next_version=3).event_id
    # A key that spells the keyless form is still another request.
    spelled = AnalysisRequested.build(**WHO, idempotency_key="version:2", next_version=2)
    assert blind != spelled.event_id
    reindex = ReindexRequested.build(**WHO, analysis_id=ANALYSIS_ID).event_id
    assert reindex == SAMPLES[3].event_id
    assert reindex != ReindexRequested.build(**WHO, analysis_id=uuid.uuid4()).event_id


def test_reprocess_ids_tell_the_owners_request_from_each_redrive() -> None:
    """The owner's request and each reconciler re-drive of a generation are distinct requests."""
    ids = {
        ReprocessRequested.build(item(generation=g, redrive_count=n)).event_id
        for g in (1, 2)
        for n in (0, 1, 2)
    }
    assert 6 == len(ids)
    again = ReprocessRequested.build(item(generation=2, redrive_count=1)).event_id
    assert again in ids


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    """An old consumer keeps working when a producer adds a field."""
    payload = msgspec.json.decode(encode_event(SAMPLES[2]))
    payload["added_later"] = {"nested": True}
    assert SAMPLES[2] == decode_event(msgspec.json.encode(payload))


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"type": "Unknown"}',
        b'{"type": "AnalysisComplete", "user_id": "u"}',
        b'{"type": "ItemFailed", "event_id": "not-a-uuid"}',
        b'{"type": "ReindexRequested", "user_id": "u", "item_id": "x"}',
    ],
)
def test_invalid_payloads_raise_msgspec_errors(payload: bytes) -> None:
    """Anything that is not a valid event is rejected with a msgspec error, never half-parsed."""
    with pytest.raises((msgspec.DecodeError, msgspec.ValidationError)):
        decode_event(payload)


def test_user_id_with_path_characters_is_rejected() -> None:
    """A user id that could escape an S3 prefix never decodes."""
    payload = msgspec.json.decode(encode_event(SAMPLES[2]))
    payload["user_id"] = "../other-user"
    with pytest.raises(msgspec.ValidationError):
        decode_event(msgspec.json.encode(payload))
