"""Recognize an allowed image type from its first bytes, never from a name or a Content-Type.

The table of magic bytes and HEIF brands is `collections_shared.domain.media`, the same one the
gateway's early check reads; this module turns its verdict into ingest's reject codes.
"""

from __future__ import annotations

from collections_ingest.imaging.errors import ImageRejected
from collections_shared.domain.media import ImageType, detect_image_type


def detect(data: bytes) -> ImageType:
    """The allowed type of ``data`` by its magic bytes; `ImageRejected` otherwise."""
    if not data:
        raise ImageRejected("empty_file", "The file is empty.")
    image_type = detect_image_type(data)
    if image_type is None:
        raise ImageRejected(
            "unsupported_type", "Not a JPEG, PNG, WebP, GIF or HEIC image (judged by its content)."
        )
    return image_type


def sniff(data: bytes) -> tuple[str, str]:
    """The ``(mime type, canonical extension)`` of ``data``, judged by its magic bytes only.

    Raises `ImageRejected` with ``empty_file`` for 0 bytes and ``unsupported_type`` for anything
    that is not on the allowlist. It does not parse further: `process_image` does that.
    """
    image_type = detect(data)
    return image_type.mime_type, image_type.extension
