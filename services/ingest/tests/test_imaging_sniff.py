"""Type detection by magic bytes: the allowlist, and everything that must stay off it."""

from __future__ import annotations

import struct

import pytest

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import ImageRejected, sniff
from collections_shared.domain.media import SNIFF_BYTES, detect_image_type


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    """The start of an ISO-BMFF file: an ftyp box with the given brands, then padding."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (hostile.jpeg(16, 16), ("image/jpeg", "jpg")),
        (hostile.encode(hostile.photo_like(16, 16), "PNG"), ("image/png", "png")),
        (hostile.encode(hostile.photo_like(16, 16), "WEBP"), ("image/webp", "webp")),
        (hostile.encode(hostile.photo_like(16, 16), "GIF"), ("image/gif", "gif")),
        (hostile.heic(64, 64), ("image/heic", "heic")),
    ],
    ids=["jpeg", "png", "webp", "gif", "heic"],
)
def test_allowed_types_are_recognized(data: bytes, expected: tuple[str, str]) -> None:
    """Each allowed format is named by its content with its canonical extension."""
    assert expected == sniff(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), ("image/heic", "heic")),
        (_ftyp(b"mif1", b"heic", b"miaf"), ("image/heic", "heic")),
        (_ftyp(b"mif1", b"miaf"), ("image/heif", "heic")),
        (_ftyp(b"msf1", b"hevc"), ("image/heic", "heic")),
    ],
    ids=["major-heic", "mif1-with-heic", "generic-heif", "sequence"],
)
def test_heif_brands(data: bytes, expected: tuple[str, str]) -> None:
    """HEIF files are told apart by their ftyp brands, all stored with the heic extension."""
    assert expected == sniff(data)


@pytest.mark.parametrize(
    "data",
    [
        _ftyp(b"avif", b"mif1", b"miaf"),
        _ftyp(b"mif1", b"avif", b"miaf"),
        _ftyp(b"isom", b"mp41"),
        _ftyp(b"qt  "),
    ],
    ids=["avif", "mif1-with-avif", "mp4", "quicktime"],
)
def test_other_iso_media_is_refused(data: bytes) -> None:
    """AVIF, MP4 and QuickTime share HEIF's container but are not on the allowlist."""
    with pytest.raises(ImageRejected) as caught:
        sniff(data)
    assert "unsupported_type" == caught.value.code


@pytest.mark.parametrize(
    "data",
    [
        hostile.html_page(),
        hostile.svg_with_script(),
        hostile.zip_archive(),
        b"\xff\xd8",  # two bytes of a JPEG marker are not a JPEG
        b"GIF88a" + b"\x00" * 20,
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        *hostile.other_formats().values(),
    ],
    ids=["html", "svg", "zip", "short-jpeg", "bad-gif", "wav", *hostile.other_formats()],
)
def test_everything_else_is_unsupported(data: bytes) -> None:
    """Formats Pillow could parse (BMP, TIFF, ICO, BLP, ICNS, FITS) are refused like any other."""
    with pytest.raises(ImageRejected) as caught:
        sniff(data)
    assert "unsupported_type" == caught.value.code


def test_empty_file_has_its_own_code() -> None:
    """Zero bytes is reported as empty_file, which tells the user more than unsupported_type."""
    with pytest.raises(ImageRejected) as caught:
        sniff(b"")
    assert ("empty_file", "The file is empty.") == (caught.value.code, caught.value.message)


@pytest.mark.parametrize(
    "data",
    [
        hostile.jpeg(16, 16),
        hostile.heic(64, 64),
        _ftyp(b"mif1", b"miaf"),
        _ftyp(b"mif1", b"avif", b"miaf"),
        _ftyp(b"msf1", *[b"miaf"] * 70, b"hevc"),  # a brand past the ftyp cap is not read
        hostile.avif_header(),
        hostile.zip_archive(),
    ],
    ids=["jpeg", "heic", "generic-heif", "mif1-with-avif", "long-ftyp", "avif", "zip"],
)
def test_gateway_head_check_agrees_with_ingest(data: bytes) -> None:
    """The gateway's early check on the first SNIFF_BYTES bytes gives ingest's verdict."""
    try:
        expected: tuple[str, str] | None = sniff(data)
    except ImageRejected:
        expected = None
    early = detect_image_type(data[:SNIFF_BYTES])
    assert expected == (None if early is None else (early.mime_type, early.extension))
