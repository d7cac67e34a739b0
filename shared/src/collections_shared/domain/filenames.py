"""Display names of uploads: kept for people, never used as a path."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\"\\/<>:|?*]")
MAX_FILENAME = 255


def sanitize_filename(name: str) -> str:
    """The last path segment, without control, bidi-override or path characters, ≤ 255 chars.

    Object keys never come from this (they are ``{sub}/images/{uuid}.{ext}``); this only keeps
    the name we show from carrying ``../``, NUL or an RTL override that disguises an extension.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    cleaned = _UNSAFE.sub("", base).strip().strip(".")
    if len(cleaned) > MAX_FILENAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = f"{stem[: MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            cleaned = cleaned[:MAX_FILENAME]
    return cleaned or "upload"
