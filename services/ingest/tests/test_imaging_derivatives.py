"""Derivatives: sizes, formats, orientation, colour modes, and no metadata in what we serve."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import (
    PREVIEW_EDGE,
    THUMBNAIL_EDGE,
    Derivative,
    ProcessedImage,
    process_image,
)

COLOR_TOLERANCE = 40  # JPEG/WebP at quality 80-85 keep flat colours well within this


def _pixels(derivative: Derivative, mode: str = "RGB") -> Image.Image:
    with Image.open(io.BytesIO(derivative.data)) as image:
        return image.convert(mode)


def _near(expected: tuple[int, ...], actual: object) -> bool:
    assert isinstance(actual, tuple)
    return all(abs(e - a) <= COLOR_TOLERANCE for e, a in zip(expected, actual, strict=True))


def _assert_no_metadata(derivative: Derivative) -> None:
    with Image.open(io.BytesIO(derivative.data)) as image:
        assert 0 == len(image.getexif())
        assert set() == {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
    assert b"Exif\x00\x00" not in derivative.data
    assert b"http://ns.adobe.com/xap/1.0/" not in derivative.data


@pytest.fixture(scope="module", name="photo")
def fx_photo() -> ProcessedImage:
    """A 3000x2000 photo with a 60 KB EXIF block including GPS, processed with GPS kept."""
    exif = hostile.exif_block(padding=60_000)
    return process_image(hostile.jpeg(3000, 2000, exif=exif), keep_gps=True)


def test_derivative_sizes_and_formats(photo: ProcessedImage) -> None:
    """The preview is a JPEG of long edge 1568 and the thumbnail a WebP of long edge 256."""
    preview, thumbnail = photo.derivatives["preview"], photo.derivatives["thumbnail"]

    assert (PREVIEW_EDGE, 1045) == (preview.width, preview.height)
    assert (THUMBNAIL_EDGE, 171) == (thumbnail.width, thumbnail.height)
    assert ("image/jpeg", "jpg", "JPEG") == (
        preview.content_type,
        preview.extension,
        Image.open(io.BytesIO(preview.data)).format,
    )
    assert ("image/webp", "webp", "WEBP") == (
        thumbnail.content_type,
        thumbnail.extension,
        Image.open(io.BytesIO(thumbnail.data)).format,
    )
    assert (preview.width, preview.height) == _pixels(preview).size


def test_derivatives_carry_no_metadata(photo: ProcessedImage) -> None:
    """Even from a photo with EXIF, GPS and camera data, derivatives have no EXIF, XMP or ICC."""
    assert 48.8 < (photo.exif.gps_latitude or 0)  # the original did have GPS
    for derivative in photo.derivatives.values():
        _assert_no_metadata(derivative)
        assert b"Canon" not in derivative.data


def test_sha256_is_of_the_original_bytes() -> None:
    """The digest identifies the uploaded bytes, for per-user duplicate detection."""
    data = hostile.jpeg(64, 48)

    assert hashlib.sha256(data).hexdigest() == process_image(data).sha256


@pytest.mark.parametrize(
    ("orientation", "red_corner"),
    [(1, "tl"), (2, "tr"), (3, "br"), (4, "bl"), (5, "tl"), (6, "tr"), (7, "br"), (8, "bl")],
)
def test_exif_orientation_is_applied(orientation: int, red_corner: str) -> None:
    """The stored top-left red block lands where a viewer shows it; 90° turns swap the size."""
    result = process_image(hostile.oriented_jpeg(orientation, width=400, height=200))
    expected_size = (200, 400) if orientation >= 5 else (400, 200)
    preview = _pixels(result.derivatives["preview"])
    width, height = preview.size
    inset_x, inset_y = width // 20, height // 20
    corners = {
        "tl": (inset_x, inset_y),
        "tr": (width - 1 - inset_x, inset_y),
        "bl": (inset_x, height - 1 - inset_y),
        "br": (width - 1 - inset_x, height - 1 - inset_y),
    }

    assert (expected_size, expected_size) == ((result.width, result.height), preview.size)
    for corner, position in corners.items():
        expected = hostile.RED if corner == red_corner else hostile.BLUE
        assert _near(expected, preview.getpixel(position)), (corner, preview.getpixel(position))
    thumbnail = result.derivatives["thumbnail"]
    expected_thumbnail = (128, 256) if orientation >= 5 else (256, 128)
    assert expected_thumbnail == (thumbnail.width, thumbnail.height)


def test_small_images_are_not_upscaled() -> None:
    """An image smaller than the thumbnail keeps its size in both derivatives."""
    result = process_image(hostile.jpeg(100, 60))

    for derivative in result.derivatives.values():
        assert (100, 60) == (derivative.width, derivative.height)


def test_extreme_aspect_ratio_keeps_a_pixel() -> None:
    """A 20000x3 strip scales to at least one pixel high instead of failing."""
    data = hostile.encode(Image.new("RGB", (20_000, 3), hostile.RED), "PNG")

    preview = process_image(data).derivatives["preview"]

    assert (PREVIEW_EDGE, 1) == (preview.width, preview.height)


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    """A CMYK JPEG comes out as an RGB preview with the right colour."""
    result = process_image(hostile.cmyk_jpeg())

    assert _near(hostile.RED, _pixels(result.derivatives["preview"]).getpixel((10, 10)))


def test_16_bit_grayscale_is_scaled_not_clipped() -> None:
    """Mid grey in 16 bits becomes mid grey in 8 bits, not white."""
    result = process_image(hostile.png_16bit_gray(value=0x8000))

    red, green, blue = _pixels(result.derivatives["preview"]).getpixel((5, 5))  # type: ignore[misc]
    assert (128, 128, 128) == (red, green, blue)


def test_16_bit_rgb_keeps_its_ramps() -> None:
    """A 16-bit RGB PNG keeps the full range: black top-left, magenta bottom-right."""
    preview = _pixels(process_image(hostile.png_16bit_rgb()).derivatives["preview"])

    assert _near((0, 0, 0), preview.getpixel((0, 0)))
    assert _near((255, 0, 255), preview.getpixel((63, 47)))


def test_transparency_is_flattened_for_jpeg_and_kept_in_webp() -> None:
    """Transparent pixels are white in the JPEG preview and stay transparent in the thumbnail."""
    result = process_image(hostile.palette_png_with_transparency())
    preview = _pixels(result.derivatives["preview"])
    thumbnail = _pixels(result.derivatives["thumbnail"], "RGBA")

    assert _near(hostile.WHITE, preview.getpixel((5, 32)))
    assert _near(hostile.RED, preview.getpixel((58, 32)))
    assert 0 == thumbnail.getpixel((5, 32))[3]  # type: ignore[index]
    assert _near((*hostile.RED, 255), thumbnail.getpixel((58, 32)))


def test_grayscale_jpeg_becomes_rgb_derivatives() -> None:
    """A greyscale JPEG is accepted and its derivatives are plain RGB."""
    data = hostile.encode(hostile.photo_like(300, 200).convert("L"), "JPEG")

    result = process_image(data)

    assert "RGB" == Image.open(io.BytesIO(result.derivatives["preview"].data)).mode


def test_heic_is_decoded_and_its_metadata_dropped() -> None:
    """A HEIC with EXIF is accepted, rotated by the decoder, and re-encoded without metadata."""
    exif = hostile.exif_block(orientation=6, gps=None)

    result = process_image(hostile.heic(320, 240, exif=exif))

    assert ("image/heic", "heic", 240, 320) == (
        result.mime_type,
        result.extension,
        result.width,
        result.height,
    )
    assert ("Canon", "EOS R6") == (result.exif.camera_make, result.exif.camera_model)
    for derivative in result.derivatives.values():
        _assert_no_metadata(derivative)


def test_webp_and_gif_originals_are_accepted() -> None:
    """WebP and GIF originals produce the same two derivatives as JPEGs."""
    picture = hostile.photo_like(640, 480)
    for pillow_format, mime_type in (("WEBP", "image/webp"), ("GIF", "image/gif")):
        result = process_image(hostile.encode(picture, pillow_format))

        assert (mime_type, 640, 480) == (result.mime_type, result.width, result.height)
        assert {"preview", "thumbnail"} == set(result.derivatives)
