"""Generators of benign and hostile image files, made in memory so no test ships binary fixtures.

Needs Pillow and pillow-heif (dependencies of the ingest service), so only the suites of services
that process images import it. Every function returns the file's bytes unless it says otherwise.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from datetime import datetime

import pillow_heif
from PIL import Image, ImageChops, ImageDraw, ImageFilter, TiffImagePlugin

pillow_heif.register_heif_opener()

POLYGLOT_MARKER = b"POLYGLOT-PAYLOAD-7f3a"
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2})


# --- benign images ------------------------------------------------------------------------------


def photo_like(width: int = 640, height: int = 480, *, seed: int = 0) -> Image.Image:
    """An RGB image that compresses like a photo: smooth gradients, shapes, soft edges, grain."""
    rng = random.Random(seed)  # noqa: S311 - reproducible pictures, not secrets
    gradient = Image.linear_gradient("L")
    channels = [
        gradient.rotate(rng.uniform(0, 360)).resize((width, height), Image.Resampling.BILINEAR)
        for _ in range(3)
    ]
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    for _ in range(24):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(max(2, width // 40), max(3, width // 6))
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)
    image = image.filter(ImageFilter.BoxBlur(max(1, width // 800)))
    grain = Image.merge("RGB", [Image.effect_noise((width, height), 10) for _ in range(3)])
    return ImageChops.add(image, grain, scale=1.0, offset=-128)


def encode(image: Image.Image, pillow_format: str, **params: object) -> bytes:
    """``image`` saved in ``pillow_format`` with Pillow's ``params``."""
    buffer = io.BytesIO()
    image.save(buffer, format=pillow_format, **params)
    return buffer.getvalue()


def jpeg(width: int = 640, height: int = 480, *, exif: bytes = b"", quality: int = 90) -> bytes:
    """A photo-like baseline JPEG, optionally with an EXIF block."""
    return encode(photo_like(width, height), "JPEG", quality=quality, exif=exif)


def exif_block(
    *,
    orientation: int | None = None,
    make: str | None = "Canon",
    model: str | None = "EOS R6",
    lens: str | None = "RF 50mm F1.8",
    taken_at: datetime | None = datetime(2024, 5, 6, 7, 8, 9),  # noqa: DTZ001 - EXIF is local time
    offset: str | None = "+02:00",
    gps: tuple[float, float] | None = (48.858222, 2.2945),
    padding: int = 0,
) -> bytes:
    """An EXIF block (TIFF structure): camera facts, optional GPS, ``padding`` filler bytes."""
    exif = Image.Exif()
    for tag, value in ((0x0112, orientation), (0x010F, make), (0x0110, model)):
        if value is not None:
            exif[tag] = value
    sub_ifd: dict[int, object] = {}
    if taken_at is not None:
        sub_ifd[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    if offset is not None:
        sub_ifd[0x9011] = offset
    if lens is not None:
        sub_ifd[0xA434] = lens
    if padding:
        sub_ifd[0x9286] = b"ASCII\x00\x00\x00" + b"x" * padding  # UserComment
    exif[0x8769] = sub_ifd
    if gps is not None:
        exif[0x8825] = _gps_ifd(*gps)
    return exif.tobytes()


def _gps_ifd(latitude: float, longitude: float) -> dict[int, object]:
    def dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
        degrees, rest = divmod(abs(value) * 3600, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = (degrees, minutes, seconds)
        return tuple(TiffImagePlugin.IFDRational(round(part * 100), 100) for part in parts)

    return {
        1: "N" if latitude >= 0 else "S",
        2: dms(latitude),
        3: "E" if longitude >= 0 else "W",
        4: dms(longitude),
    }


def oriented_jpeg(orientation: int, width: int = 400, height: int = 200) -> bytes:
    """A blue JPEG whose *stored* top-left quarter is red, tagged with an EXIF ``orientation``."""
    image = Image.new("RGB", (width, height), BLUE)
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=RED)
    return encode(image, "JPEG", quality=95, exif=exif_block(orientation=orientation, gps=None))


def cmyk_jpeg(width: int = 120, height: int = 80) -> bytes:
    """A CMYK JPEG (as print workflows make them), solid red in CMYK terms."""
    return encode(Image.new("CMYK", (width, height), (0, 255, 255, 0)), "JPEG", quality=95)


def png_16bit_gray(width: int = 64, height: int = 48, value: int = 0x8000) -> bytes:
    """A 16-bit grayscale PNG, every sample ``value`` (0x8000 is mid grey, not white)."""
    row = b"\x00" + struct.pack(">H", value) * width
    return _png(width, height, bit_depth=16, color_type=0, rows=row * height)


def png_16bit_rgb(width: int = 64, height: int = 48) -> bytes:
    """A 16-bit RGB PNG: red ramps left to right, blue top to bottom."""
    rows = b"".join(
        b"\x00"
        + b"".join(
            struct.pack(">HHH", x * 65535 // (width - 1), 0, y * 65535 // (height - 1))
            for x in range(width)
        )
        for y in range(height)
    )
    return _png(width, height, bit_depth=16, color_type=2, rows=rows)


def palette_png_with_transparency(width: int = 64, height: int = 64) -> bytes:
    """A palette PNG whose left half is the transparent index and right half opaque red."""
    image = Image.new("P", (width, height), 0)
    image.putpalette([0, 0, 0, *RED])
    ImageDraw.Draw(image).rectangle((width // 2, 0, width, height), fill=1)
    return encode(image, "PNG", transparency=0)


def heic(width: int = 320, height: int = 240, *, exif: bytes = b"") -> bytes:
    """A HEIC (HEVC in HEIF) still, written with pillow-heif."""
    metadata = {"exif": exif} if exif else {}  # libheif refuses an empty EXIF block
    return encode(photo_like(width, height), "HEIF", quality=80, **metadata)


# --- hostile images -----------------------------------------------------------------------------


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A ~1 KB PNG whose header declares ``width`` x ``height`` 8-bit grey pixels."""
    rows = b"\x00" * 64 * 1024  # a sliver of the data it promises: enough for a decoder to start
    return _png(width, height, bit_depth=8, color_type=0, rows=rows)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small valid JPEG whose SOF header is patched to declare ``width`` x ``height``."""
    data = bytearray(encode(Image.new("RGB", (16, 16), BLUE), "JPEG"))
    position = 2
    while position < len(data):
        marker, length = data[position + 1], struct.unpack_from(">H", data, position + 2)[0]
        if marker in _SOF_MARKERS:
            struct.pack_into(">HH", data, position + 5, height, width)
            return bytes(data)
        position += 2 + length
    msg = "Pillow wrote a JPEG without a SOF segment"
    raise AssertionError(msg)


def animated_gif(frames: int = 3000, width: int = 320, height: int = 240) -> bytes:
    """A looping GIF of ``frames`` full-size frames alternating red and blue (a few MB)."""
    red, blue = (_gif_parts(color, width, height) for color in (RED, BLUE))
    header, red_frame = red
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    control = b"\x21\xf9\x04\x00\x02\x00\x00\x00"  # 20 ms per frame, no disposal
    body = b"".join(control + (red_frame if i % 2 == 0 else blue[1]) for i in range(frames))
    return header + loop + body + b"\x3b"


def gif_with_oversized_frame(width: int = 60_000, height: int = 60_000) -> bytes:
    """A 16x16 GIF whose first frame descriptor claims ``width`` x ``height``."""
    header, frame = _gif_parts(RED, 16, 16)
    patched = frame[:5] + struct.pack("<HH", width, height) + frame[9:]
    return header + patched + b"\x3b"


def animated_webp(frames: int = 500, width: int = 128, height: int = 96) -> bytes:
    """An animated WebP of ``frames`` distinct frames."""
    images = [Image.new("RGB", (width, height), (i % 256, 0, 255 - i % 256)) for i in range(frames)]
    return encode(images[0], "WEBP", save_all=True, append_images=images[1:], duration=20)


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` fraction of ``data``."""
    return data[: int(len(data) * keep)]


def png_with_bad_crc() -> bytes:
    """A PNG whose IHDR checksum is wrong."""
    data = bytearray(encode(photo_like(32, 32), "PNG"))
    data[29] ^= 0xFF  # the last byte of IHDR's CRC (8 signature + 8 header + 13 data)
    return bytes(data)


def html_page() -> bytes:
    return b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>"


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>'
    )


def zip_archive() -> bytes:
    """A ZIP file (think: ``holiday.jpg`` that is really an archive)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", POLYGLOT_MARKER * 8)
    return buffer.getvalue()


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG with a ZIP appended: image viewers show the photo, unzip finds the payload."""
    return jpeg(160, 120) + zip_archive()


def pdf_document() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def fits_image() -> bytes:
    """A 4x4 FITS image (astronomy), a format Pillow reads and whose reader had CVEs."""
    cards = [("SIMPLE", "T"), ("BITPIX", "8"), ("NAXIS", "2"), ("NAXIS1", "4"), ("NAXIS2", "4")]
    header = "".join(f"{key:<8}= {value:>20}".ljust(80) for key, value in cards) + "END".ljust(80)
    return header.ljust(2880).encode("ascii") + bytes(range(16)).ljust(2880, b"\x00")


def avif_header() -> bytes:
    """The start of an AVIF file: same container as HEIF, not on the allowlist."""
    return struct.pack(">I", 32) + b"ftypavif" + b"\x00" * 4 + b"avifmif1miafMA1B" + b"\x00" * 64


def other_formats() -> dict[str, bytes]:
    """Formats Pillow reads but the allowlist refuses, keyed by name."""
    small = Image.new("RGB", (16, 16), RED)
    return {
        "bmp": encode(small, "BMP"),
        "tiff": encode(small, "TIFF"),
        "ico": encode(small, "ICO"),
        "blp": encode(small.convert("P"), "BLP"),
        "icns": encode(small.resize((32, 32)), "ICNS"),
        "fits": fits_image(),
        "pdf": pdf_document(),
        "avif": avif_header(),
    }


# --- byte-level helpers -------------------------------------------------------------------------


def _png(width: int, height: int, *, bit_depth: int, color_type: int, rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 9))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _gif_parts(color: tuple[int, int, int], width: int, height: int) -> tuple[bytes, bytes]:
    """A one-frame GIF split into (header with palette, the frame's descriptor and data)."""
    image = Image.new("P", (width, height), 0)
    image.putpalette([*RED, *BLUE] + [0] * 762)
    image.paste(0 if color == RED else 1, (0, 0, width, height))
    data = encode(image, "GIF", optimize=False)
    palette_bytes = 3 << ((data[10] & 0x07) + 1) if data[10] & 0x80 else 0
    position = 13 + palette_bytes
    header = data[:position]
    while data[position] == 0x21:  # skip extensions Pillow may write before the frame
        position = _skip_sub_blocks(data, position + 2)
    start = position
    position += 10  # image descriptor: separator, x, y, width, height, flags
    if data[start + 9] & 0x80:
        position += 3 << ((data[start + 9] & 0x07) + 1)
    end = _skip_sub_blocks(data, position + 1)  # after the LZW minimum code size byte
    return header, data[start:end]


def _skip_sub_blocks(data: bytes, position: int) -> int:
    """The position after a chain of GIF data sub-blocks that starts at ``position``."""
    while data[position]:
        position += data[position] + 1
    return position + 1
