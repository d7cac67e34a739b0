"""Weak cues from metadata: words of the file name, season and time of day from EXIF.

The file name is chosen by the uploader, so it is treated as data: only dictionary-looking words
survive (no digits, no camera prefixes like IMG/DSC/PXL, no hex ids), capped in number and length.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePosixPath

MAX_FILENAME_WORDS = 5
_CHUNK = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_VOWEL = re.compile(r"[aeiouy]")
# Prefixes of camera, phone and messenger file names, and words that say nothing about content.
_NOISE = frozenset(
    {
        "img", "image", "images", "dsc", "dscn", "dscf", "dcim", "pxl", "mvimg", "vid", "mov",
        "photo", "photos", "pic", "pict", "picture", "sam", "gopr", "dji", "whatsapp", "signal",
        "telegram", "copy", "edit", "edited", "final", "untitled", "download", "file",
        "jpg", "jpeg", "png", "heic", "webp", "gif", "the", "and", "with", "from", "for", "com",
        "burst", "cover", "original", "large", "small", "thumb", "resized", "screen", "shot",
    }
)  # fmt: skip
MONTH_SEASONS = {
    12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
    6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn",
}  # fmt: skip


def filename_words(filename: str) -> list[str]:
    """Content words of a file name: "beach_sunset_2023.jpg" gives ``["beach", "sunset"]``."""
    stem = PurePosixPath(filename.replace("\\", "/")).name.rsplit(".", 1)[0][:200]
    words: list[str] = []
    for chunk in _CHUNK.findall(stem):
        # Letters glued to digits are ids (IMG1234, deadbeef0001), not words.
        if chunk.lower() in _NOISE or not chunk.isalpha():
            continue
        for part in _CAMEL.findall(chunk):
            word = part.lower()
            fits = 3 <= len(word) <= 20 and _VOWEL.search(word) is not None
            if fits and word not in _NOISE and word not in words:
                words.append(word)
    return words[:MAX_FILENAME_WORDS]


def season(taken_at: datetime) -> str:
    """Meteorological season, assuming the northern hemisphere (EXIF carries no location here)."""
    return MONTH_SEASONS[taken_at.month]


def time_of_day(taken_at: datetime) -> str:
    """``morning``, ``afternoon``, ``evening`` or ``night`` from the local hour EXIF recorded."""
    hour = taken_at.hour
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 21:
        return "evening"
    return "night"
