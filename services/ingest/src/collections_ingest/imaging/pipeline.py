"""process_image: one upload's bytes in, validated facts and clean derivatives out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from collections_ingest.imaging import decode, derivatives, exif, sniff
from collections_ingest.imaging.derivatives import Derivative
from collections_ingest.imaging.errors import ImageRejected
from collections_ingest.imaging.exif import ExifFacts
from collections_shared.domain.media import ImageType

DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class ProcessedImage:
    """An accepted image: what it is, its facts, and its derivatives keyed by name."""

    mime_type: str  # detected from the content, e.g. image/jpeg
    extension: str  # canonical: jpg, png, webp, gif or heic
    width: int  # after EXIF orientation
    height: int
    sha256: str  # hex digest of the original bytes, for per-user duplicate detection
    exif: ExifFacts
    derivatives: dict[str, Derivative]


def process_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    keep_gps: bool = False,
) -> ProcessedImage:
    """Validate ``data``, read its facts and make the ``thumbnail`` and ``preview`` derivatives.

    Pure and synchronous: CPU-bound, so the service runs it in a worker thread. Every way an
    upload can be bad raises `ImageRejected` with one of `REJECT_CODES`; other exceptions are bugs
    or resource exhaustion (MemoryError), which a retry may fix.
    """
    if len(data) > max_bytes:
        raise ImageRejected(
            "file_too_large", f"The file has {len(data):,} bytes; the limit is {max_bytes:,}."
        )
    image_type = sniff.detect(data)
    try:
        return _process(data, image_type, max_pixels, keep_gps=keep_gps, ycbcr=True)
    except ImageRejected as rejected:
        if rejected.code != "corrupt_image" or image_type.pillow_format != "JPEG":
            raise
    # Decoding to YCbCr follows our reading of libjpeg's colour-space rules; should an odd file
    # disagree, the plain RGB decode decides whether it is really corrupt.
    return _process(data, image_type, max_pixels, keep_gps=keep_gps, ycbcr=False)


def _process(
    data: bytes, image_type: ImageType, max_pixels: int, *, keep_gps: bool, ycbcr: bool
) -> ProcessedImage:
    with decode.open_image(data, image_type, max_pixels) as image:
        stored_size = image.size  # before the draft shrinks it
        decode.load_first_frame(
            image,
            image_type,
            long_edge=derivatives.PREVIEW_EDGE,
            max_pixels=max_pixels,
            ycbcr=ycbcr,
        )
        facts = exif.read_exif(image.info.get("exif"), stored_size=stored_size, keep_gps=keep_gps)
        work = derivatives.working_image(image, facts.orientation)
    return ProcessedImage(
        mime_type=image_type.mime_type,
        extension=image_type.extension,
        width=facts.width,
        height=facts.height,
        sha256=hashlib.sha256(data).hexdigest(),
        exif=facts,
        derivatives=derivatives.make_derivatives(work),
    )
