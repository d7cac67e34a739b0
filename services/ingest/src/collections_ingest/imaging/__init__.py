"""Safe image processing for ingest: allowlist by content, bounded decode, clean derivatives.

A pure, synchronous library (no AWS, no database). Decisions, in short:

- Allowed by magic bytes only: JPEG, PNG, WebP, GIF (first frame), HEIC/HEIF. Each is parsed by
  the one Pillow plugin its magic names, so a renamed BMP/TIFF/ICO/SVG/ZIP never reaches another
  decoder.
- The pixel count is checked on the parsed header, before any pixel memory exists.
- Truncated or corrupt files are refused whole (no partial thumbnail).
- Derivatives are re-encoded from pixels after EXIF orientation, converted to sRGB, and carry no
  EXIF, GPS, XMP or ICC. The JPEG preview flattens transparency on white; the WebP thumbnail
  keeps its alpha channel.
"""

from __future__ import annotations

from collections_ingest.imaging.derivatives import (
    PREVIEW_EDGE,
    THUMBNAIL_EDGE,
    Derivative,
    DerivativeName,
)
from collections_ingest.imaging.errors import REJECT_CODES, ImageRejected, RejectCode
from collections_ingest.imaging.exif import ExifFacts
from collections_ingest.imaging.pipeline import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    ProcessedImage,
    process_image,
)
from collections_ingest.imaging.sniff import sniff

__all__ = (
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PREVIEW_EDGE",
    "REJECT_CODES",
    "THUMBNAIL_EDGE",
    "Derivative",
    "DerivativeName",
    "ExifFacts",
    "ImageRejected",
    "ProcessedImage",
    "RejectCode",
    "process_image",
    "sniff",
)
