"""Colour management: embedded ICC profiles are applied to the pixels, then dropped."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageCms

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import process_image

# sRGB's primaries as ICC colorants (D50-adapted XYZ), and the D50 white point.
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)
D50 = (0.9642, 1.0, 0.8249)
TOLERANCE = 12


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + b"".join(_s15(v) for v in xyz)


def _matrix_profile(red: tuple[float, float, float], blue: tuple[float, float, float]) -> bytes:
    """A minimal ICC v2 RGB matrix profile (gamma 2.2) with the given red and blue colorants."""
    text = b"swapped primaries\x00"
    description = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text + b"\x00" * 78
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\x00\x00"
    tags = [
        (b"desc", description),
        (b"wtpt", _xyz(D50)),
        (b"rXYZ", _xyz(red)),
        (b"gXYZ", _xyz(SRGB_GREEN)),
        (b"bXYZ", _xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\x00\x00\x00\x00test\x00\x00\x00\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, payload in tags:
        padded = payload.ljust((len(payload) + 3) // 4 * 4, b"\x00")
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += padded
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I", 128 + len(body))
        + b"\x00" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\x00" * 12
        + b"acsp"
        + b"\x00" * 28  # platform, flags, manufacturer, model, attributes, rendering intent
        + b"".join(_s15(v) for v in D50)
        + b"\x00" * 48  # creator, profile id, reserved
    )
    return header + body


def _preview_pixel(data: bytes) -> tuple[int, ...]:
    preview = process_image(data).derivatives["preview"]
    with Image.open(io.BytesIO(preview.data)) as image:
        assert "icc_profile" not in image.info
        pixel = image.convert("RGB").getpixel((8, 8))
    assert isinstance(pixel, tuple)
    return pixel


def _close(expected: tuple[int, ...], actual: tuple[int, ...]) -> bool:
    return all(abs(e - a) <= TOLERANCE for e, a in zip(expected, actual, strict=True))


def test_embedded_profile_is_converted_to_srgb() -> None:
    """Red in a profile whose red primary is sRGB's blue comes out blue: the profile was applied."""
    swapped = _matrix_profile(red=SRGB_BLUE, blue=SRGB_RED)
    data = hostile.encode(Image.new("RGB", (64, 64), hostile.RED), "PNG", icc_profile=swapped)

    assert _close(hostile.BLUE, _preview_pixel(data))


def test_srgb_profile_leaves_colours_alone() -> None:
    """An sRGB-tagged image keeps its colours (and loses the tag)."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = hostile.encode(Image.new("RGB", (64, 64), (200, 120, 40)), "PNG", icc_profile=srgb)

    assert _close((200, 120, 40), _preview_pixel(data))


def test_broken_profile_falls_back_to_the_pixels_as_they_are() -> None:
    """A garbage ICC profile is ignored rather than failing the upload."""
    data = hostile.encode(
        Image.new("RGB", (64, 64), (200, 120, 40)), "PNG", icc_profile=b"not a profile" * 20
    )

    assert _close((200, 120, 40), _preview_pixel(data))


def test_profile_with_alpha_keeps_the_alpha() -> None:
    """Converting an RGBA image's colours keeps its transparency in the WebP thumbnail."""
    swapped = _matrix_profile(red=SRGB_BLUE, blue=SRGB_RED)
    image = Image.new("RGBA", (64, 64), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 32, 64))
    data = hostile.encode(image, "PNG", icc_profile=swapped)

    thumbnail = process_image(data).derivatives["thumbnail"]

    with Image.open(io.BytesIO(thumbnail.data)) as decoded:
        rgba = decoded.convert("RGBA")
        transparent, opaque = rgba.getpixel((8, 32)), rgba.getpixel((56, 32))
    assert isinstance(transparent, tuple) and isinstance(opaque, tuple)
    assert 0 == transparent[3]
    assert _close((*hostile.BLUE, 255), opaque)


def test_profile_of_a_scaled_jpeg_is_applied() -> None:
    """A large JPEG (decoded DCT-scaled, in YCbCr) gets its profile applied like any image."""
    swapped = _matrix_profile(red=SRGB_BLUE, blue=SRGB_RED)
    image = Image.new("RGB", (3200, 1600), hostile.RED)
    data = hostile.encode(image, "JPEG", quality=95, icc_profile=swapped)

    assert _close(hostile.BLUE, _preview_pixel(data))


def test_srgb_profile_of_a_scaled_jpeg_leaves_colours_alone() -> None:
    """A large sRGB-tagged JPEG keeps its colours through the YCbCr path (and loses the tag)."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.new("RGB", (3200, 1600), (200, 120, 40))
    data = hostile.encode(image, "JPEG", quality=95, icc_profile=srgb)

    assert _close((200, 120, 40), _preview_pixel(data))
