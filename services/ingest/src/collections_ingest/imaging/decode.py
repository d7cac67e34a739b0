"""Open untrusted bytes with one allowed Pillow plugin, check the size, then decode one frame.

The order is what keeps hostile files cheap: the header is parsed and the pixel count checked
before any pixel memory exists, and JPEGs are decoded at the smallest DCT scale that still covers
the largest derivative. A YCbCr JPEG that has to be scaled down is decoded to YCbCr, its own
colour space, so that derivatives.py can resize its chroma at the resolution the preview keeps.
"""

from __future__ import annotations

import io
import math
import struct
import zlib

import pillow_heif
from PIL import Image, ImageFile, JpegImagePlugin, UnidentifiedImageError

from collections_ingest.imaging.errors import ImageRejected
from collections_ingest.imaging.guard import recorded_warnings
from collections_shared.domain.media import ImageType

# The plugin decodes the real image, never an embedded thumbnail (which could show something
# else), and skips depth and auxiliary images that we never use.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# What Pillow and pillow-heif raise for malformed input. DecompressionBombError is handled first.
# Warning is here because a process may turn warnings into errors (pytest does).
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # Pillow's "broken PNG file" and friends
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
    zlib.error,
    RuntimeError,  # libheif decoding errors
    Warning,
)


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse a declared size over ``max_pixels`` before any pixel memory is allocated."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageRejected("corrupt_image", f"The image declares an empty size {width}x{height}.")
    if width * height > max_pixels:
        raise _too_large(f"{width}x{height} pixels", max_pixels)


def open_image(data: bytes, image_type: ImageType, max_pixels: int) -> ImageFile.ImageFile:
    """Parse the header with the one plugin the magic bytes named; no pixels are decoded."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # A programming error elsewhere in the process: it would turn truncated uploads into
        # half-grey thumbnails, so refuse to run rather than accept them silently.
        msg = "PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False in the ingest service"
        raise RuntimeError(msg)
    with recorded_warnings() as caught:
        try:
            image = Image.open(io.BytesIO(data), formats=[image_type.pillow_format])
        except Image.DecompressionBombError:
            raise _too_large("far more pixels than allowed", max_pixels) from None
        except DECODE_ERRORS as error:
            raise _corrupt(image_type, error) from None
    if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
        image.close()
        raise _too_large(f"{image.width}x{image.height} pixels", max_pixels)
    try:
        check_pixels(image.size, max_pixels)
    except ImageRejected:
        image.close()
        raise
    return image


def load_first_frame(
    image: ImageFile.ImageFile,
    image_type: ImageType,
    *,
    long_edge: int,
    max_pixels: int,
    ycbcr: bool = True,
) -> None:
    """Decode frame 0 only, JPEGs at the smallest DCT scale whose long edge is ≥ ``long_edge``.

    The scale is chosen on the stored (unrotated) size; a 90° EXIF rotation swaps width and height
    but not the long edge, so the choice holds for the oriented image too. Such a JPEG comes out
    in mode YCbCr when it is stored as YCbCr (`stored_as_ycbcr`) and ``ycbcr`` allows, RGB
    otherwise.
    """
    width, height = image.size
    scale = long_edge / max(width, height)
    if scale < 1:
        mode = "YCbCr" if ycbcr and stored_as_ycbcr(image) else None
        image.draft(mode, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large("a frame of too many pixels", max_pixels) from None
    except DECODE_ERRORS as error:
        raise _corrupt(image_type, error) from None
    # A HEIF's decoded size can differ from its header; never pass on more than we allow.
    check_pixels(image.size, max_pixels)


def stored_as_ycbcr(image: Image.Image) -> bool:
    """True for a 3-component JPEG that libjpeg reads as YCbCr, so it can hand out YCbCr pixels.

    Asking libjpeg for YCbCr from a JPEG it reads as RGB fails ("broken data stream"), so this
    follows libjpeg-turbo's own rules (``default_decompress_parms`` in jdapimin.c) on the markers
    Pillow kept: a JFIF APP0 (at least 14 bytes) means YCbCr; otherwise the last Adobe APP14 (at
    least 12 bytes) decides, transform 0 being RGB; otherwise component IDs "R", "G", "B" mean RGB
    and anything else YCbCr. Lossless JPEGs, which have no quantization tables, are left as RGB:
    libjpeg reads their IDs 1, 2, 3 as RGB.
    """
    if not isinstance(image, JpegImagePlugin.JpegImageFile) or image.mode != "RGB":
        return False
    if not image.quantization or len(image.layer) != 3:
        return False
    markers = image.applist
    if any(
        name == "APP0" and len(data) >= 14 and data.startswith(b"JFIF\0") for name, data in markers
    ):
        return True
    adobe = [
        data[11]
        for name, data in markers
        if name == "APP14" and len(data) >= 12 and data.startswith(b"Adobe")
    ]
    if adobe:
        return adobe[-1] != 0
    return [layer[0] for layer in image.layer] != list(b"RGB")


def _too_large(what: str, max_pixels: int) -> ImageRejected:
    return ImageRejected(
        "image_too_large", f"The image declares {what}; the limit is {max_pixels:,} pixels."
    )


def _corrupt(image_type: ImageType, error: BaseException) -> ImageRejected:
    """A corrupt_image rejection that names the type and Pillow's reason, for the item's log."""
    if isinstance(error, UnidentifiedImageError):
        reason = "its header cannot be parsed"  # Pillow's message only repeats the file object
    else:
        reason = str(error) or type(error).__name__
    return ImageRejected(
        "corrupt_image", f"The {image_type.extension.upper()} image is damaged: {reason[:200]}"
    )
