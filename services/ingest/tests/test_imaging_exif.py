"""EXIF facts: what is read, GPS only on request, and garbage never fails an upload."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, TiffImagePlugin

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import ExifFacts, process_image
from collections_ingest.imaging.exif import MAX_EXIF_BYTES, read_exif

FUZZ_ROUNDS = 200


def _facts(exif: bytes, *, keep_gps: bool = False) -> ExifFacts:
    return process_image(hostile.jpeg(64, 48, exif=exif), keep_gps=keep_gps).exif


def _raw_exif(ifd0: dict[int, object], sub_ifd: dict[int, object] | None = None) -> bytes:
    exif = Image.Exif()
    for tag, value in ifd0.items():
        exif[tag] = value
    if sub_ifd is not None:
        exif[0x8769] = sub_ifd
    return exif.tobytes()


def test_camera_facts_are_read() -> None:
    """Capture time with its offset, make, model, lens and orientation come from EXIF."""
    facts = _facts(hostile.exif_block(orientation=1, padding=60_000))

    assert (
        ExifFacts(
            width=64,
            height=48,
            taken_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2))),
            camera_make="Canon",
            camera_model="EOS R6",
            lens_model="RF 50mm F1.8",
            orientation=1,
        )
        == facts
    )


def test_gps_is_dropped_unless_asked_for() -> None:
    """By default the GPS fields stay None even when the photo has coordinates."""
    facts = _facts(hostile.exif_block())

    assert (None, None) == (facts.gps_latitude, facts.gps_longitude)


@pytest.mark.parametrize(
    ("position", "expected"),
    [((48.858222, 2.2945), (48.8582, 2.2945)), ((-33.8568, -151.2153), (-33.8568, -151.2153))],
    ids=["north-east", "south-west"],
)
def test_gps_is_read_when_kept(
    position: tuple[float, float], expected: tuple[float, float]
) -> None:
    """With keep_gps, coordinates come back as signed decimal degrees."""
    facts = _facts(hostile.exif_block(gps=position), keep_gps=True)

    assert expected == (round(facts.gps_latitude or 0, 4), round(facts.gps_longitude or 0, 4))


def test_time_without_offset_is_naive() -> None:
    """Without OffsetTimeOriginal the capture time is the camera's clock, left naive."""
    facts = _facts(hostile.exif_block(offset=None))

    assert datetime(2024, 5, 6, 7, 8, 9) == facts.taken_at  # noqa: DTZ001 - naive on purpose


def test_digitized_time_is_the_fallback() -> None:
    """DateTimeDigitized stands in when DateTimeOriginal is missing."""
    facts = _facts(_raw_exif({}, {0x9004: "2020:01:02 03:04:05", 0x9012: "-05:00"}))

    assert datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))) == facts.taken_at


@pytest.mark.parametrize(
    ("ifd0", "sub_ifd"),
    [
        ({0x0112: 99}, {}),
        ({0x0112: 0}, {}),
        ({}, {0x9003: "not a date at all"}),
        ({}, {0x9003: "0000:00:00 00:00:00"}),
        ({}, {0x9003: 12345}),
        ({}, {0x9003: "2024:05:06 07:08:09", 0x9011: "+99:00"}),
        ({0x010F: b"\xff\xfe\x00binary"}, {}),
    ],
    ids=[
        "orientation-99",
        "orientation-0",
        "date-text",
        "date-zero",
        "date-int",
        "bad-offset",
        "make-binary",
    ],
)
def test_garbage_values_are_dropped_one_by_one(
    ifd0: dict[int, object], sub_ifd: dict[int, object]
) -> None:
    """A malformed field is ignored and the image is still processed, unrotated."""
    facts = _facts(_raw_exif({0x0110: "Model X", **ifd0}, sub_ifd))

    assert ("Model X", 64, 48) == (facts.camera_model, facts.width, facts.height)
    assert facts.orientation is None
    assert facts.taken_at is None or facts.taken_at.tzinfo is None


def test_text_is_cleaned_and_capped() -> None:
    """Control characters are removed, whitespace collapsed and long strings cut to 128."""
    facts = _facts(_raw_exif({0x010F: "Canon\x1b[31m   EOS\t", 0x0110: "X" * 1000}))

    assert ("Canon[31m EOS", "X" * 128) == (facts.camera_make, facts.camera_model)


@pytest.mark.parametrize(
    "gps_ifd",
    [
        {1: "X", 2: (1.0, 2.0, 3.0), 3: "E", 4: (1.0, 2.0, 3.0)},
        {1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (1.0, 2.0, 3.0)},
        {1: "N", 2: (1.0, 2.0), 3: "E", 4: (1.0, 2.0, 3.0)},
        {1: "N", 2: (1.0, 2.0, 3.0)},
    ],
    ids=["bad-ref", "out-of-range", "two-parts", "no-longitude"],
)
def test_invalid_gps_is_dropped(gps_ifd: dict[int, object]) -> None:
    """Coordinates that are incomplete or impossible are not stored at all."""
    exif = Image.Exif()
    exif[0x8825] = {
        tag: tuple(TiffImagePlugin.IFDRational(v) for v in value)
        if isinstance(value, tuple)
        else value
        for tag, value in gps_ifd.items()
    }

    facts = _facts(exif.tobytes(), keep_gps=True)

    assert (None, None) == (facts.gps_latitude, facts.gps_longitude)


def test_zero_denominator_gps_is_dropped() -> None:
    """A rational with a zero denominator (NaN) does not become a coordinate."""
    nan = TiffImagePlugin.IFDRational(1, 0)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (nan, nan, nan), 3: "E", 4: (nan, nan, nan)}

    facts = _facts(exif.tobytes(), keep_gps=True)

    assert (None, None) == (facts.gps_latitude, facts.gps_longitude)


def test_oversized_exif_is_not_parsed() -> None:
    """An EXIF block beyond the cap is skipped entirely; the image itself is fine."""
    exif = hostile.exif_block(padding=MAX_EXIF_BYTES)
    data = hostile.encode(hostile.photo_like(64, 48), "PNG", exif=exif)

    result = process_image(data)

    assert ExifFacts(width=64, height=48) == result.exif


def test_fuzzed_exif_never_raises() -> None:
    """Randomly corrupted EXIF blocks give partial or empty facts, never an exception."""
    block = hostile.exif_block(orientation=6)
    rng = random.Random(1234)
    for _ in range(FUZZ_ROUNDS):
        mutated = bytearray(block)
        for _ in range(rng.randrange(1, 12)):
            mutated[rng.randrange(8, len(mutated))] = rng.randrange(256)
        facts = read_exif(bytes(mutated), stored_size=(40, 30), keep_gps=True)
        assert (40, 30) == (facts.width, facts.height) or (30, 40) == (facts.width, facts.height)


def test_fuzzed_exif_in_a_jpeg_never_fails_the_upload() -> None:
    """A JPEG whose EXIF was damaged in transit is still accepted."""
    block = hostile.exif_block(orientation=3)
    picture = hostile.photo_like(48, 32)
    rng = random.Random(99)
    for _ in range(FUZZ_ROUNDS // 4):
        mutated = bytearray(block)
        for _ in range(rng.randrange(1, 12)):
            mutated[rng.randrange(8, len(mutated))] = rng.randrange(256)
        data = hostile.encode(picture, "JPEG", exif=bytes(mutated))

        assert "image/jpeg" == process_image(data, keep_gps=True).mime_type
