"""Recognize an allowed image type from its first bytes, never from a name or a Content-Type."""

from __future__ import annotations

from dataclasses import dataclass

from collections_ingest.imaging.errors import ImageRejected

# ISO-BMFF brands of HEIF stills and sequences coded with HEVC, plus the generic HEIF brands: the
# major brands pillow-heif opens.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# AVIF shares the container and the generic brands; it is not on the allowlist, so an AVIF brand
# anywhere in the ftyp box wins over the generic ones.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_MAX_FTYP_BYTES = 256


@dataclass(frozen=True)
class ImageType:
    """One allowed type: what we report, and which Pillow plugin may parse it."""

    mime_type: str
    extension: str
    pillow_format: str


JPEG = ImageType("image/jpeg", "jpg", "JPEG")
PNG = ImageType("image/png", "png", "PNG")
WEBP = ImageType("image/webp", "webp", "WEBP")
GIF = ImageType("image/gif", "gif", "GIF")
HEIC = ImageType("image/heic", "heic", "HEIF")
HEIF = ImageType("image/heif", "heic", "HEIF")


def detect(data: bytes) -> ImageType:
    """The allowed type of ``data`` by its magic bytes; `ImageRejected` otherwise."""
    if not data:
        raise ImageRejected("empty_file", "The file is empty.")
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    heif = _detect_heif(data)
    if heif is not None:
        return heif
    raise ImageRejected(
        "unsupported_type", "Not a JPEG, PNG, WebP, GIF or HEIC image (judged by its content)."
    )


def _detect_heif(data: bytes) -> ImageType | None:
    """HEIC or HEIF from the leading ``ftyp`` box's brands, or None."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(data[:4], "big")
    if not 16 <= box_size <= min(_MAX_FTYP_BYTES, len(data)):
        return None
    # major brand, minor version, then compatible brands, four bytes each
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, box_size - 3, 4)}
    if data[8:12] not in _HEIC_BRANDS | _HEIF_BRANDS or brands & _AVIF_BRANDS:
        return None
    return HEIC if brands & _HEIC_BRANDS else HEIF


def sniff(data: bytes) -> tuple[str, str]:
    """The ``(mime type, canonical extension)`` of ``data``, judged by its magic bytes only.

    Raises `ImageRejected` with ``empty_file`` for 0 bytes and ``unsupported_type`` for anything
    that is not on the allowlist. It does not parse further: `process_image` does that.
    """
    image_type = detect(data)
    return image_type.mime_type, image_type.extension
