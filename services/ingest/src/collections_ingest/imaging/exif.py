"""EXIF facts worth keeping, read defensively: a bad field is dropped, never fatal.

EXIF is attacker-controlled metadata. The block is capped in size, every field is validated on
its own, and any parse error only loses that field (or, for a broken header, all of them).
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from PIL import Image

from collections_ingest.imaging.guard import recorded_warnings

# A JPEG APP1 segment holds at most 64 KiB; a few cameras chain several. Anything far beyond
# that is not camera metadata, so it is not parsed at all.
MAX_EXIF_BYTES = 256 * 1024
_MAX_TEXT_CHARS = 128

_ORIENTATION, _MAKE, _MODEL = 0x0112, 0x010F, 0x0110
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9011, 0x9012
_LENS_MODEL = 0xA434
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4

_ROTATED_90 = frozenset({5, 6, 7, 8})  # orientations that swap width and height
_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")

# What Pillow's TIFF/EXIF parser raises on garbage (its warnings are recorded, see read_exif).
_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OSError,
    EOFError,
    struct.error,
    ZeroDivisionError,
    OverflowError,
    RecursionError,
)

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ExifFacts:
    """What the item record keeps from an image's metadata.

    ``taken_at`` is timezone-aware when the file states its UTC offset (OffsetTimeOriginal).
    Otherwise it is naive: the camera's wall-clock time with an unknown offset, which callers
    store as if it were UTC (``taken_at.replace(tzinfo=UTC)``) and must not shift.
    ``width`` and ``height`` are the image's real dimensions after orientation, not EXIF's claim.
    GPS fields are None unless the caller asked to keep GPS. For HEIC the decoder has already
    applied the rotation and reset the tag, so ``orientation`` reads 1 there.
    """

    width: int
    height: int
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens_model: str | None = None
    orientation: int | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None


def read_exif(raw: object, *, stored_size: tuple[int, int], keep_gps: bool) -> ExifFacts:
    """Facts from an EXIF block (``info["exif"]``); ``stored_size`` is the size before rotation."""
    with recorded_warnings():  # Pillow warns on each tag it skips; skipping is our policy too
        return _read(raw, stored_size=stored_size, keep_gps=keep_gps)


def _read(raw: object, *, stored_size: tuple[int, int], keep_gps: bool) -> ExifFacts:
    exif = _parse(raw)
    orientation = _safe(lambda: _orientation(exif)) if exif is not None else None
    width, height = stored_size
    if orientation in _ROTATED_90:
        width, height = height, width
    if exif is None:
        return ExifFacts(width=width, height=height)
    sub_ifd: Mapping[int, Any] = _safe(lambda: exif.get_ifd(_EXIF_IFD)) or {}
    latitude, longitude = (None, None)
    if keep_gps:
        latitude, longitude = _safe(lambda: _gps(exif.get_ifd(_GPS_IFD))) or (None, None)
    return ExifFacts(
        width=width,
        height=height,
        taken_at=_safe(lambda: _taken_at(sub_ifd)),
        camera_make=_safe(lambda: _text(exif.get(_MAKE))),
        camera_model=_safe(lambda: _text(exif.get(_MODEL))),
        lens_model=_safe(lambda: _text(sub_ifd.get(_LENS_MODEL))),
        orientation=orientation,
        gps_latitude=latitude,
        gps_longitude=longitude,
    )


def _parse(raw: object) -> Image.Exif | None:
    """The parsed EXIF block, or None when absent, oversized or not a TIFF structure."""
    if not isinstance(raw, bytes) or not raw or len(raw) > MAX_EXIF_BYTES:
        return None
    exif = Image.Exif()
    try:
        exif.load(raw)
    except _PARSE_ERRORS:
        return None
    return exif


def _safe(read: Callable[[], T]) -> T | None:
    """``read()``, or None when the metadata behind it is malformed."""
    try:
        return read()
    except _PARSE_ERRORS:
        return None


def _orientation(exif: Mapping[int, Any]) -> int | None:
    value = exif.get(_ORIENTATION)
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _text(value: object) -> str | None:
    """A printable, trimmed, length-capped string, or None."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    printable = "".join(c for c in value if unicodedata.category(c)[0] != "C")
    cleaned = " ".join(printable.split())[:_MAX_TEXT_CHARS]
    return cleaned or None


def _taken_at(sub_ifd: Mapping[int, Any]) -> datetime | None:
    """DateTimeOriginal with its offset, else DateTimeDigitized with its offset."""
    for stamp_tag, offset_tag in (
        (_DATETIME_ORIGINAL, _OFFSET_ORIGINAL),
        (_DATETIME_DIGITIZED, _OFFSET_DIGITIZED),
    ):
        stamp = _text(sub_ifd.get(stamp_tag))
        if stamp is None:
            continue
        try:
            local = datetime.strptime(stamp[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007 - see ExifFacts
        except ValueError:
            continue
        return local.replace(tzinfo=_utc_offset(sub_ifd.get(offset_tag)))
    return None


def _utc_offset(value: object) -> timezone | None:
    """An EXIF OffsetTime* value such as ``+09:00`` as a timezone, or None."""
    text = _text(value)
    match = _OFFSET_RE.fullmatch(text) if text else None
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def _gps(gps_ifd: Mapping[int, Any]) -> tuple[float, float] | None:
    """Signed decimal degrees, or None unless both coordinates are complete and in range."""
    latitude = _coordinate(gps_ifd.get(_GPS_LAT), gps_ifd.get(_GPS_LAT_REF), "NS", 90.0)
    longitude = _coordinate(gps_ifd.get(_GPS_LON), gps_ifd.get(_GPS_LON_REF), "EW", 180.0)
    if latitude is None or longitude is None:
        return None
    return latitude, longitude


def _coordinate(value: object, ref: object, hemispheres: str, limit: float) -> float | None:
    """Degrees, minutes, seconds plus a hemisphere letter as signed degrees; None if invalid."""
    ref_text = _text(ref)
    if not isinstance(value, tuple) or len(value) != 3 or ref_text not in tuple(hemispheres):
        return None
    degrees, minutes, seconds = (float(part) for part in value)
    decimal = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(decimal) or not 0 <= decimal <= limit:
        return None
    return -decimal if ref_text == hemispheres[1] else decimal
