"""Which files we accept, recognised by their first bytes (never by name or Content-Type)."""

from __future__ import annotations

ALLOWED_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/heif": "heif",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type of an allowed image format from its first 32 bytes, else None.

    This is a cheap early check (the gateway answers 415 at once); ingest decodes the file fully
    and remains the authority.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS - {b"avif"}:
        return "image/heic" if head[8:12] in {b"heic", b"heix", b"hevc", b"hevx"} else "image/heif"
    return None
