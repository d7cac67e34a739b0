"""Small real images generated in memory for tests."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def jpeg(
    width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40), seed: int = 0
) -> bytes:
    """A JPEG whose bytes differ per ``seed`` (so uploads are not duplicates of each other)."""
    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((seed % width, 0, seed % width + 3, height), fill=(seed * 37 % 256, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def png(width: int = 32, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 255, 128)).save(buffer, format="PNG")
    return buffer.getvalue()
