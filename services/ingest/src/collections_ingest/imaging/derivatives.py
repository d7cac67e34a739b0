"""Derivatives: clean re-encodes in sRGB, oriented, bounded in size, with no metadata at all.

Every derivative is a fresh encode of decoded pixels, so nothing from the upload's bytes (EXIF,
GPS, XMP, comments, a payload appended to a polyglot) can reach it. ICC profiles are applied
(converted to sRGB) and then dropped: an untagged image is read as sRGB everywhere, and it saves
carrying a profile nobody needs.

A YCbCr JPEG (decode.py hands it over in YCbCr when it needs scaling) stays in YCbCr up to the
encoders: the preview is a 4:2:0 JPEG, which keeps one chroma sample per 2x2 pixels, so only
luma is resized at full preview size (`_fit_ycbcr`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms

PREVIEW_EDGE = 1568  # the vision model's preferred long edge
THUMBNAIL_EDGE = 256
PREVIEW_QUALITY = 85
THUMBNAIL_QUALITY = 80
# After DCT scaling a 12 MP JPEG needs only a ~1.3x reduction to the preview. There bicubic
# matches a full-resolution Lanczos to ~46 dB PSNR and costs 30% less than Lanczos.
PREVIEW_RESAMPLE = Image.Resampling.BICUBIC
THUMBNAIL_RESAMPLE = Image.Resampling.LANCZOS  # ~6x from the preview: the sharpest filter
# libwebp's effort, 0-6 (Pillow's default is 4). On a 256 px thumbnail 2 takes half the time of 4
# for 2-4% more bytes at the same quality (docs/performance.md, "Thumbnails").
THUMBNAIL_WEBP_METHOD = 2
MAX_ICC_BYTES = 1024 * 1024  # real profiles are a few KiB; a huge one is not worth parsing

_WHITE = (255, 255, 255)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

DerivativeName = Literal["thumbnail", "preview"]


@dataclass(frozen=True)
class Derivative:
    """One encoded derivative, ready to store under ``{user}/derived/{item}/{name}.{extension}``."""

    name: DerivativeName
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def working_image(image: Image.Image, orientation: int | None) -> Image.Image:
    """A new RGB, RGBA or YCbCr sRGB image, at most ``PREVIEW_EDGE`` on its long edge, upright.

    Resizing comes first so colour conversion and rotation touch the fewest pixels; the bounding
    box is square, so resizing before rotating gives the same size as the other way round. Only a
    YCbCr JPEG gives a YCbCr image (unless its profile needs converting): see `_fit_ycbcr`.
    """
    icc_profile = image.info.get("icc_profile")
    if image.mode == "YCbCr":
        work = _fit_ycbcr(image, PREVIEW_EDGE)
    else:
        work = _fit(_eight_bit(image), PREVIEW_EDGE, PREVIEW_RESAMPLE)
    work = _to_srgb(work, icc_profile if isinstance(icc_profile, bytes) else None)
    if orientation in _TRANSPOSE:
        work = work.transpose(_TRANSPOSE[orientation])
    if work is image:
        work = image.copy()
    work.info = {}  # derivatives carry no metadata; encoders read some of it from info
    return work


def make_derivatives(work: Image.Image) -> dict[str, Derivative]:
    """The JPEG preview (alpha flattened on white) and the WebP thumbnail (alpha kept).

    A YCbCr ``work`` is encoded to JPEG as it is (no round trip through RGB); its thumbnail is
    converted to RGB for WebP once it is small.
    """
    preview = _flatten(work)
    thumbnail = _fit(work, THUMBNAIL_EDGE, THUMBNAIL_RESAMPLE)
    if thumbnail.mode == "YCbCr":
        thumbnail = thumbnail.convert("RGB")
    return {
        "preview": _encode("preview", preview, "JPEG", quality=PREVIEW_QUALITY),
        "thumbnail": _encode(
            "thumbnail",
            thumbnail,
            "WEBP",
            quality=THUMBNAIL_QUALITY,
            method=THUMBNAIL_WEBP_METHOD,
        ),
    }


def _eight_bit(image: Image.Image) -> Image.Image:
    """RGB, RGBA or CMYK (converted later with its profile), scaling 16-bit samples to 8."""
    if image.mode in _SIXTEEN_BIT:
        # convert("L") would clip 16-bit values at 255 instead of scaling them
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "CMYK":
        return image
    target = "RGBA" if image.has_transparency_data else "RGB"
    return image if image.mode == target else image.convert(target)


def _fit(image: Image.Image, edge: int, resample: Image.Resampling) -> Image.Image:
    """``image`` scaled down (never up) so its long edge is at most ``edge``."""
    size = _fitted_size(image.size, edge)
    if size == image.size:
        return image
    # reducing_gap: a fast integer box reduction first, then ``resample`` over the last ≤2x
    return image.resize(size, resample, reducing_gap=2.0)


def _fit_ycbcr(image: Image.Image, edge: int) -> Image.Image:
    """A YCbCr ``image`` scaled down like `_fit`, its chroma at the resolution a 4:2:0 JPEG keeps.

    Luma is resized at full size with ``PREVIEW_RESAMPLE``. Chroma is box-reduced 2x, resized
    with the same filter to half the preview size, then each sample is repeated over its 2x2
    pixels: the JPEG encoder averages each 2x2 block of chroma back to one sample, so the preview
    stores exactly what was resized. For a 12 MP photo this takes ~22 ms instead of ~27 ms for
    RGB; libjpeg's YCbCr input and output are slower than its RGB ones, so ~3 ms of that comes
    back, and the served preview is the same within 0.1 dB PSNR (docs/performance.md,
    "Thumbnails").
    """
    size = _fitted_size(image.size, edge)
    if size == image.size:
        return image
    width, height = size
    luma = image.getchannel("Y").resize(size, PREVIEW_RESAMPLE)
    reduced = image.reduce(2)  # still ≥ half the preview size: chroma is never upscaled
    half = ((width + 1) // 2, (height + 1) // 2)
    box = (0.0, 0.0, width / 2, height / 2)  # source pixel x // 2 for output pixel x
    chroma = [
        reduced.getchannel(band)
        .resize(half, PREVIEW_RESAMPLE)
        .resize(size, Image.Resampling.NEAREST, box=box)
        for band in ("Cb", "Cr")
    ]
    return Image.merge("YCbCr", (luma, *chroma))


def _fitted_size(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so its long edge is at most ``edge``."""
    width, height = size
    if max(width, height) <= edge:
        return size
    scale = edge / max(width, height)
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Pixels converted from the embedded profile to sRGB; unmanaged conversion as a fallback.

    YCbCr stays YCbCr unless a profile has to be applied: untagged or sRGB-tagged, it is sRGB's
    own JPEG encoding, which the preview's encoder takes as it is.
    """
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc_profile and len(icc_profile) <= MAX_ICC_BYTES:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if image.mode == "CMYK" or not _is_srgb(source):
                pixels = image.convert("RGB") if image.mode == "YCbCr" else image
                converted = ImageCms.profileToProfile(pixels, source, _SRGB, outputMode=mode)
                if converted is not None:
                    return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: fall back to the unmanaged conversion
    if image.mode == "YCbCr":
        return image
    return image if image.mode == mode else image.convert(mode)


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """True for the usual sRGB profiles, whose conversion to sRGB would be a costly no-op."""
    description = ImageCms.getProfileDescription(profile)
    return description.strip().lower().startswith("srgb")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB; transparent areas become white (JPEG has no alpha)."""
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, _WHITE)
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode(
    name: DerivativeName, image: Image.Image, pillow_format: str, *, quality: int, **options: int
) -> Derivative:
    buffer = io.BytesIO()
    # Only pixels and encoder settings are passed: no exif=, icc_profile= or xmp=, so none is
    # written.
    image.save(buffer, format=pillow_format, quality=quality, **options)
    extension, content_type = (
        ("jpg", "image/jpeg") if pillow_format == "JPEG" else ("webp", "image/webp")
    )
    return Derivative(
        name=name,
        data=buffer.getvalue(),
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
    )
