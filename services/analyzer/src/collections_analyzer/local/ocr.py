"""Visible text by Tesseract OCR, keeping only words Tesseract itself is confident about.

On ordinary photos Tesseract "reads" texture as junk ("eee", "(gTAN"); a confidence floor and a
word-shape filter keep that out of the analysis, at the cost of missing some faint real text.
"""

from __future__ import annotations

import os
import re
import threading

import pytesseract
import structlog
from PIL import Image

logger = structlog.get_logger(__name__)

MIN_CONFIDENCE = 60.0
MIN_TEXT_CHARS = 4
"""Fewer letters than this in the whole image is almost always texture misread as a word."""
MAX_EDGE = 1280
"""Larger previews are shrunk first: big text stays legible and OCR time stays bounded."""
TIMEOUT_SECONDS = 20
_WORD = re.compile(r"^[^\W_]{2,}|^[^\W_]+[\w'\u2019.,:;!?%&@/-]*[^\W_]$|^\d+$", re.UNICODE)

_warned = threading.Event()


def _looks_like_word(token: str) -> bool:
    letters = sum(ch.isalnum() for ch in token)
    return letters >= 2 and letters / len(token) >= 0.6 and bool(_WORD.match(token))


def read_text(image: Image.Image, language: str = "eng") -> str:
    """The confident words of ``image``, one line of text per line found; "" if none or no OCR."""
    # Tesseract's OpenMP threads fight the worker's own concurrency; one per process is fastest.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    gray = image.convert("L")
    gray.thumbnail((MAX_EDGE, MAX_EDGE))
    try:
        data = pytesseract.image_to_data(
            gray, lang=language, output_type=pytesseract.Output.DICT, timeout=TIMEOUT_SECONDS
        )
    except pytesseract.TesseractNotFoundError:
        if not _warned.is_set():
            _warned.set()
            logger.warning("local.ocr_unavailable", reason="tesseract binary not found")
        return ""
    except (RuntimeError, pytesseract.TesseractError) as error:
        logger.warning("local.ocr_failed", error=str(error)[:200])
        return ""
    lines: dict[tuple[int, int, int], list[str]] = {}
    for index, token in enumerate(data["text"]):
        word = str(token).strip()
        if word and float(data["conf"][index]) >= MIN_CONFIDENCE and _looks_like_word(word):
            key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
            lines.setdefault(key, []).append(word)
    text = "\n".join(" ".join(words) for words in lines.values())
    return text if sum(ch.isalnum() for ch in text) >= MIN_TEXT_CHARS else ""
