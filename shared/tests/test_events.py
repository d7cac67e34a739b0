"""Events round-trip through the tagged union and evolve without breaking old consumers."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from collections_shared import events
from collections_shared.events import (
    EVENT_TYPES,
    AnalysisComplete,
    EmbeddingComplete,
    FailureReason,
    ImageProcessed,
    ItemFailed,
    ReprocessRequested,
    decode_envelope,
    decode_event,
    detail_type,
    encode_event,
    utc_now,
)

COMMON = {
    "occurred_at": utc_now(),
    "user_id": "0f8e4f1c-user",
    "item_id": uuid.uuid4(),
    "correlation_id": "req-123",
}

SAMPLES = [
    ImageProcessed(
        event_id=uuid.uuid4(),
        bucket="b",
        original_key="u/images/i.jpg",
        derivative_keys={"thumbnail": "u/derived/i/thumbnail.webp"},
        width=640,
        height=480,
        mime_type="image/jpeg",
        sha256="a" * 64,
        **COMMON,
    ),
    AnalysisComplete(event_id=uuid.uuid4(), analysis_id=uuid.uuid4(), version=2, **COMMON),
    EmbeddingComplete(event_id=uuid.uuid4(), embedding_id=uuid.uuid4(), model="local", **COMMON),
    ItemFailed(
        event_id=uuid.uuid4(),
        stage="ingest",
        reason=FailureReason(code="corrupt_image", message="truncated JPEG"),
        **COMMON,
    ),
    ReprocessRequested(event_id=uuid.uuid4(), original_key="u/images/i.jpg", **COMMON),
]


def test_every_event_type_has_a_sample() -> None:
    """The contract test below covers every member of the union."""
    assert set(EVENT_TYPES) == {type(sample) for sample in SAMPLES}


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: type(event).__name__)
def test_event_round_trips_and_carries_its_tag(event: events.Event) -> None:
    """Encoding then decoding gives the same event, and the detail names its type."""
    data = encode_event(event)
    assert event == decode_event(data)
    assert detail_type(event) == msgspec.json.decode(data)["type"]


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    """An old consumer keeps working when a producer adds a field."""
    payload = msgspec.json.decode(encode_event(SAMPLES[1]))
    payload["added_later"] = {"nested": True}
    assert SAMPLES[1] == decode_event(msgspec.json.encode(payload))


def test_eventbridge_envelope_decodes_to_the_typed_event() -> None:
    """The body EventBridge delivers to SQS decodes straight to the event struct."""
    body = {
        "version": "0",
        "id": "abc",
        "detail-type": "AnalysisComplete",
        "source": "collections.analyzer",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": msgspec.json.decode(encode_event(SAMPLES[1])),
    }
    envelope = decode_envelope(msgspec.json.encode(body))
    assert SAMPLES[1] == envelope.detail


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"type": "Unknown"}',
        b'{"type": "AnalysisComplete", "user_id": "u"}',
        b'{"type": "ItemFailed", "event_id": "not-a-uuid"}',
    ],
)
def test_invalid_payloads_raise_msgspec_errors(payload: bytes) -> None:
    """Anything that is not a valid event is rejected with a msgspec error, never half-parsed."""
    with pytest.raises((msgspec.DecodeError, msgspec.ValidationError)):
        decode_event(payload)


def test_user_id_with_path_characters_is_rejected() -> None:
    """A user id that could escape an S3 prefix never decodes."""
    payload = msgspec.json.decode(encode_event(SAMPLES[1]))
    payload["user_id"] = "../other-user"
    with pytest.raises(msgspec.ValidationError):
        decode_event(msgspec.json.encode(payload))
