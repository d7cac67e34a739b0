"""Hostile uploads: each one is refused with the right code, or made harmless, at bounded cost."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from PIL import GifImagePlugin, Image, ImageFile, WebPImagePlugin

from collections_devtools import hostile_images as hostile
from collections_ingest.imaging import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    REJECT_CODES,
    ImageRejected,
    process_image,
)

ANIMATED_GIF_FRAMES = 3000


def _rejection(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES
) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process_image(data, max_pixels=max_pixels, max_bytes=max_bytes)
    return caught.value


@pytest.fixture(name="pixel_loads")
def fx_pixel_loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of every image whose pixels Pillow decodes during the test."""
    loads: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        loads.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return loads


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: hostile.png_bomb(50_000, 50_000), "image_too_large"),
        (lambda: hostile.png_bomb(10_000, 10_000), "image_too_large"),  # Pillow would only warn
        (lambda: hostile.png_bomb(8_000, 8_000), "image_too_large"),  # under Pillow's own limit
        (lambda: hostile.jpeg_declaring(65_000, 65_000), "image_too_large"),
        (lambda: hostile.jpeg_declaring(9_000, 6_000), "image_too_large"),
        (hostile.gif_with_oversized_frame, "image_too_large"),
        (lambda: hostile.truncated(hostile.jpeg()), "corrupt_image"),
        (lambda: hostile.truncated(hostile.encode(hostile.photo_like(), "PNG")), "corrupt_image"),
        (lambda: hostile.truncated(hostile.heic(), keep=0.7), "corrupt_image"),
        (hostile.png_with_bad_crc, "corrupt_image"),
        (lambda: hostile.png_bomb(0, 10), "corrupt_image"),
        (lambda: b"\xff\xd8\xff" + b"\x00" * 64, "corrupt_image"),
        (lambda: b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16, "corrupt_image"),
        (hostile.html_page, "unsupported_type"),
        (hostile.svg_with_script, "unsupported_type"),
        (hostile.zip_archive, "unsupported_type"),
        (lambda: b"", "empty_file"),
    ],
    ids=[
        "png-50kx50k",
        "png-10kx10k",
        "png-8kx8k",
        "jpeg-sof-65000",
        "jpeg-sof-9000x6000",
        "gif-frame-60000",
        "truncated-jpeg",
        "truncated-png",
        "truncated-heic",
        "png-bad-crc",
        "png-zero-width",
        "jpeg-magic-only",
        "webp-garbage",
        "html",
        "svg-script",
        "zip-as-jpg",
        "empty",
    ],
)
def test_hostile_file_is_rejected_with_its_code(
    make: Callable[[], bytes], code: str, pixel_loads: list[tuple[int, int]]
) -> None:
    """Each hostile file gets the documented code, and bombs are refused before any decoding."""
    rejected = _rejection(make())

    assert code == rejected.code
    assert rejected.message
    if code == "image_too_large":
        assert [] == pixel_loads


@pytest.mark.parametrize("name", sorted(hostile.other_formats()))
def test_formats_pillow_reads_are_not_decoded(name: str, pixel_loads: list[object]) -> None:
    """BMP, TIFF, ICO, BLP, ICNS, FITS, PDF and AVIF are refused without reaching a decoder."""
    rejected = _rejection(hostile.other_formats()[name])

    assert ("unsupported_type", []) == (rejected.code, pixel_loads)


def test_file_size_is_checked_first() -> None:
    """More bytes than max_bytes is file_too_large, whatever the bytes are."""
    rejected = _rejection(hostile.jpeg(64, 48), max_bytes=1000)

    assert "file_too_large" == rejected.code


def test_pixel_limit_is_the_callers() -> None:
    """A caller's max_pixels applies to ordinary images too, not only to Pillow's bomb limit."""
    data = hostile.jpeg(100, 100)

    assert "image_too_large" == _rejection(data, max_pixels=9_999).code
    assert 100 == process_image(data, max_pixels=10_000).width


def test_every_code_is_documented() -> None:
    """The codes the tests see are exactly the documented set."""
    assert {
        "empty_file",
        "file_too_large",
        "unsupported_type",
        "image_too_large",
        "corrupt_image",
    } == REJECT_CODES


def test_rejection_is_a_permanent_worker_error() -> None:
    """The worker can treat a rejection as permanent: retrying the same bytes cannot help."""
    from collections_shared.errors import PermanentError

    rejected = _rejection(hostile.html_page())

    assert isinstance(rejected, PermanentError)


@pytest.fixture(name="gif_frames_read")
def fx_gif_frames_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The frame numbers Pillow's GIF reader seeks to during the test."""
    frames: list[int] = []
    original = GifImagePlugin.GifImageFile._seek

    def spy(self: GifImagePlugin.GifImageFile, frame: int, update_image: bool = True) -> None:
        frames.append(frame)
        original(self, frame, update_image)

    monkeypatch.setattr(GifImagePlugin.GifImageFile, "_seek", spy)
    yield frames


def test_animated_gif_decodes_only_its_first_frame(gif_frames_read: list[int]) -> None:
    """A 3000-frame GIF costs one frame: no other frame is ever read."""
    data = hostile.animated_gif(frames=ANIMATED_GIF_FRAMES)

    result = process_image(data)

    assert [0] == gif_frames_read
    assert ("image/gif", 320, 240) == (result.mime_type, result.width, result.height)


def test_animated_gif_derivatives_show_the_first_frame() -> None:
    """The first frame of the red/blue animation is red, and so are the derivatives."""
    result = process_image(hostile.animated_gif(frames=ANIMATED_GIF_FRAMES))

    for derivative in result.derivatives.values():
        with Image.open(io.BytesIO(derivative.data)) as image:
            pixel = image.convert("RGB").getpixel((10, 10))
            assert isinstance(pixel, tuple)
            assert (True, True) == (pixel[0] > 200, pixel[2] < 60)
            assert 1 == getattr(image, "n_frames", 1)


def test_animated_webp_keeps_one_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """An animated WebP yields a still thumbnail, decoding a single frame of 500."""
    frames_decoded = 0
    original = WebPImagePlugin.WebPImageFile._get_next

    def spy(self: WebPImagePlugin.WebPImageFile) -> tuple[bytes, int, int]:
        nonlocal frames_decoded
        frames_decoded += 1
        return original(self)

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "_get_next", spy)

    result = process_image(hostile.animated_webp(frames=500))

    assert 1 == frames_decoded
    with Image.open(io.BytesIO(result.derivatives["thumbnail"].data)) as thumbnail:
        assert 1 == getattr(thumbnail, "n_frames", 1)


def test_polyglot_is_accepted_but_its_payload_is_not_served() -> None:
    """A JPEG with a ZIP appended is a JPEG; the derivatives are re-encodes without the ZIP."""
    data = hostile.jpeg_zip_polyglot()

    result = process_image(data)

    assert "image/jpeg" == result.mime_type
    for derivative in result.derivatives.values():
        assert hostile.POLYGLOT_MARKER not in derivative.data
        assert b"PK\x03\x04" not in derivative.data


def test_truncated_image_makes_no_partial_derivative() -> None:
    """A truncated JPEG is refused whole, with Pillow's truncation setting left untouched."""
    rejected = _rejection(hostile.truncated(hostile.jpeg(), keep=0.9))

    assert ("corrupt_image", False) == (rejected.code, ImageFile.LOAD_TRUNCATED_IMAGES)


def test_refuses_to_run_if_truncated_images_were_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """If some code turned LOAD_TRUNCATED_IMAGES on, processing stops instead of going on."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        process_image(hostile.jpeg(32, 32))
