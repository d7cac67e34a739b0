"""Which files we accept, recognised by their first bytes (never by name or Content-Type).

One table for the whole system: the gateway's early check (415 at once) and ingest, which decodes
the file fully and remains the authority, both call :func:`detect_image_type`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageType:
    """One allowed type: what we report, how its original is named, which decoder may parse it."""

    mime_type: str
    extension: str
    pillow_format: str
    """The one Pillow plugin allowed to open it, so a renamed file never reaches another one."""


JPEG = ImageType("image/jpeg", "jpg", "JPEG")
PNG = ImageType("image/png", "png", "PNG")
WEBP = ImageType("image/webp", "webp", "WEBP")
GIF = ImageType("image/gif", "gif", "GIF")
HEIC = ImageType("image/heic", "heic", "HEIF")
HEIF = ImageType("image/heif", "heic", "HEIF")

ALLOWED_TYPES: dict[str, str] = {
    image_type.mime_type: image_type.extension for image_type in (JPEG, PNG, WEBP, GIF, HEIC, HEIF)
}
"""Accepted MIME types and the extension their originals are stored with."""

SNIFF_BYTES = 256
"""How many leading bytes :func:`detect_image_type` reads (a HEIF ``ftyp`` box fits in them)."""

# ISO-BMFF brands of HEIF stills and sequences coded with HEVC, plus the generic HEIF brands: the
# major brands pillow-heif opens.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
# AVIF shares the container and the generic brands; it is not on the allowlist, so an AVIF brand
# anywhere in the ftyp box wins over the generic ones.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def detect_image_type(head: bytes) -> ImageType | None:
    """The allowed type of a file from its first :data:`SNIFF_BYTES` bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return _detect_heif(head[:SNIFF_BYTES])


def _detect_heif(head: bytes) -> ImageType | None:
    """HEIC or HEIF from the leading ``ftyp`` box's brands, or None."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    if not 16 <= box_size <= len(head):
        return None
    # major brand, minor version, then compatible brands, four bytes each
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_size - 3, 4)}
    if head[8:12] not in _HEIC_BRANDS | _HEIF_BRANDS or brands & _AVIF_BRANDS:
        return None
    return HEIC if brands & _HEIC_BRANDS else HEIF
