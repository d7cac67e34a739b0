"""Large JPEGs: decoded DCT-scaled, in YCbCr when libjpeg reads them as YCbCr, RGB otherwise."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import PREVIEW_EDGE, ImageRejected, process_image
from collections_ingest.imaging.decode import load_first_frame, open_image, stored_as_ycbcr
from collections_shared.domain.media import JPEG

COLOR_TOLERANCE = 24
MAX_PIXELS = 50_000_000
GREEN = (0, 255, 0)
# Quadrants of `_quadrants`, and where their centres land in a preview (fractions of its size).
QUADRANT_COLORS = {(0.25, 0.25): hostile.RED, (0.75, 0.25): GREEN, (0.25, 0.75): hostile.BLUE}
QUADRANT_COLORS[(0.75, 0.75)] = hostile.WHITE


def _quadrants(width: int = 3200, height: int = 1600) -> Image.Image:
    image = Image.new("RGB", (width, height), hostile.WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=hostile.RED)
    draw.rectangle((width // 2, 0, width - 1, height // 2 - 1), fill=GREEN)
    draw.rectangle((0, height // 2, width // 2 - 1, height - 1), fill=hostile.BLUE)
    return image


def _segments(data: bytes) -> tuple[list[bytes], bytes]:
    """The marker segments between SOI and SOS (each with its marker), and the rest from SOS."""
    segments, offset = [], 2
    while data[offset + 1] != 0xDA:
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        segments.append(data[offset : offset + 2 + length])
        offset += 2 + length
    return segments, data[offset:]


def _rebuild(data: bytes, *, drop: bytes = b"", add: tuple[bytes, ...] = ()) -> bytes:
    """``data`` without the segments whose marker is ``drop``, with ``add`` right after SOI."""
    segments, rest = _segments(data)
    kept = [segment for segment in segments if not drop or segment[:2] != drop]
    return b"\xff\xd8" + b"".join((*add, *kept)) + rest


def _app(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


APP0, APP14 = b"\xff\xe0", b"\xff\xee"
ADOBE_YCC = _app(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01")  # transform 1: YCbCr
ADOBE_RGB = _app(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00")  # transform 0: RGB
SHORT_JFIF = _app(0xE0, b"JFIF\x00\x01\x02\x00")  # too short for libjpeg to count it as JFIF


def _variants() -> dict[str, tuple[bytes, bool]]:
    """The ways a 3-component JPEG says YCbCr or RGB, each with what libjpeg decides."""
    ycc = hostile.encode(_quadrants(), "JPEG", quality=95)  # JFIF, component IDs 1, 2, 3
    rgb = hostile.encode(_quadrants(), "JPEG", quality=95, keep_rgb=True)  # Adobe 0, IDs R, G, B
    return {
        "jfif": (ycc, True),
        "ids-123-no-markers": (_rebuild(ycc, drop=APP0), True),  # as many cameras write them
        "adobe-ycc": (_rebuild(ycc, drop=APP0, add=(ADOBE_YCC,)), True),
        "jfif-wins-over-adobe-rgb": (_rebuild(ycc, add=(ADOBE_RGB,)), True),
        "adobe-rgb": (rgb, False),
        "ids-rgb-no-markers": (_rebuild(rgb, drop=APP14), False),
        "short-jfif-adobe-rgb": (_rebuild(rgb, add=(SHORT_JFIF,)), False),
    }


VARIANTS = _variants()


@pytest.mark.parametrize(("data", "ycbcr"), VARIANTS.values(), ids=VARIANTS.keys())
def test_colour_space_follows_libjpeg(data: bytes, ycbcr: bool) -> None:
    """YCbCr is asked for only where libjpeg reads YCbCr; each variant decodes in its mode."""
    with open_image(data, JPEG, MAX_PIXELS) as image:
        assert ycbcr is stored_as_ycbcr(image)
        load_first_frame(image, JPEG, long_edge=PREVIEW_EDGE, max_pixels=MAX_PIXELS)

        assert ("YCbCr" if ycbcr else "RGB", (1600, 800)) == (image.mode, image.size)


@pytest.mark.parametrize(("data", "ycbcr"), VARIANTS.values(), ids=VARIANTS.keys())
def test_scaled_previews_keep_their_colours(data: bytes, ycbcr: bool) -> None:
    """Whichever way the JPEG was decoded, both derivatives show the right colours in place."""
    del ycbcr
    result = process_image(data)

    for name in ("preview", "thumbnail"):
        derivative = result.derivatives[name]
        with Image.open(io.BytesIO(derivative.data)) as encoded:
            pixels = encoded.convert("RGB")
        assert (name, pixels.size) == (name, (derivative.width, derivative.height))
        for (x, y), expected in QUADRANT_COLORS.items():
            actual = pixels.getpixel((int(x * pixels.width), int(y * pixels.height)))
            assert isinstance(actual, tuple)
            assert all(abs(e - a) <= COLOR_TOLERANCE for e, a in zip(expected, actual, strict=True))


def test_small_jpegs_are_decoded_as_rgb() -> None:
    """A JPEG that needs no scaling is decoded as RGB, libjpeg's fast path (no YCbCr output)."""
    with open_image(hostile.jpeg(800, 600), JPEG, MAX_PIXELS) as image:
        load_first_frame(image, JPEG, long_edge=PREVIEW_EDGE, max_pixels=MAX_PIXELS)

        assert ("RGB", (800, 600)) == (image.mode, image.size)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_to_scaled_jpegs(orientation: int) -> None:
    """The YCbCr path turns the pixels too: the stored top-left red block lands where it shows."""
    result = process_image(hostile.oriented_jpeg(orientation, width=3200, height=1600))
    preview = result.derivatives["preview"]
    with Image.open(io.BytesIO(preview.data)) as encoded:
        pixels = encoded.convert("RGB")
    width, height = pixels.size
    red_corner = {1: (0, 0), 2: (1, 0), 3: (1, 1), 4: (0, 1)}[(orientation - 1) % 4 + 1]
    x = width // 20 if red_corner[0] == 0 else width - 1 - width // 20
    y = height // 20 if red_corner[1] == 0 else height - 1 - height // 20

    expected_size = (784, PREVIEW_EDGE) if orientation >= 5 else (PREVIEW_EDGE, 784)
    assert expected_size == (preview.width, preview.height) == pixels.size
    actual = pixels.getpixel((x, y))
    assert isinstance(actual, tuple)
    assert all(abs(e - a) <= COLOR_TOLERANCE for e, a in zip(hostile.RED, actual, strict=True))


def _psnr(first: Image.Image, second: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(first, second)).rms
    mse = sum(value * value for value in rms) / len(rms)
    return 10 * math.log10(255 * 255 / mse)


def test_scaled_preview_is_as_faithful_as_resizing_rgb() -> None:
    """Against a full-resolution Lanczos, the served preview loses nothing to the RGB way.

    The RGB way is the previous pipeline: decode RGB at the same DCT scale, bicubic to the
    preview size, JPEG at the same quality. Both are decoded and compared as served.
    """
    data = hostile.jpeg(3200, 2400)
    size = (PREVIEW_EDGE, 1176)
    with Image.open(io.BytesIO(data)) as full:
        reference = full.resize(size, Image.Resampling.LANCZOS)
    with Image.open(io.BytesIO(data)) as scaled:
        scaled.draft("RGB", size)
        rgb_way = hostile.encode(scaled.resize(size, Image.Resampling.BICUBIC), "JPEG", quality=85)

    served = process_image(data).derivatives["preview"].data

    with Image.open(io.BytesIO(served)) as ours, Image.open(io.BytesIO(rgb_way)) as theirs:
        assert _psnr(ours.convert("RGB"), reference) > _psnr(theirs.convert("RGB"), reference) - 0.2


def test_a_wrong_colour_space_guess_falls_back_to_rgb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the YCbCr guess be wrong for some file, the RGB decode still makes the derivatives."""
    from collections_ingest.imaging import decode

    monkeypatch.setattr(decode, "stored_as_ycbcr", lambda image: True)
    data, _ = VARIANTS["adobe-rgb"]
    with open_image(data, JPEG, MAX_PIXELS) as image, pytest.raises(ImageRejected) as rejected:
        load_first_frame(image, JPEG, long_edge=PREVIEW_EDGE, max_pixels=MAX_PIXELS)
    assert "corrupt_image" == rejected.value.code

    result = process_image(data)

    assert {"preview", "thumbnail"} == set(result.derivatives)
    assert (3200, 1600) == (result.width, result.height)
