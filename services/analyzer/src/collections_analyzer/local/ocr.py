"""Visible text, as lines with their position and size, from one of two offline OCR engines.

- **RapidOCR** (``rapidocr``, PP-OCRv6 small detection and recognition ONNX models bundled in
  its wheel, run by onnxruntime): finds text anywhere, at any size, over photos, outlined or
  shadowed. The local analyzer reads screenshots and photos with it.
- **Tesseract** (the ``tesseract`` binary): the engine before, kept as the fallback when the
  models cannot be loaded and as the baseline of ``python -m bench analyzer``.
- **Both** (:class:`GatedOcr`, the default): Tesseract first, RapidOCR too where text is likely.

The numbers behind the choice are in docs/understanding.md. On ordinary photos either engine
"reads" texture as junk; a confidence floor and a word-shape filter keep that out, at the cost
of missing some faint real text.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import Protocol

import msgspec
import numpy as np
import pytesseract
import structlog
from PIL import Image

logger = structlog.get_logger(__name__)

MIN_TEXT_CHARS = 4
"""Fewer letters than this in the whole image is almost always texture misread as a word."""
TESSERACT_MIN_CONFIDENCE = 60.0
RAPID_MIN_SCORE = 0.6
TESSERACT_MAX_EDGE = 1280
RAPID_MAX_EDGE = 1024
"""Detection runs on the image shrunk to this long edge: a phone screenshot's small print stays
legible, and the time per image stays bounded (docs/understanding.md)."""
TIMEOUT_SECONDS = 20
_WORD = re.compile(r"^[^\W_]{2,}|^[^\W_@#$€£¥₩₺₫]+[\w'\u2019.,:;!?%&@/-]*[^\W_]$|^\d+$", re.UNICODE)
_SYMBOL_WORD = re.compile(r"^[@#][\w.]{2,}$|^\S*\d\S*$")
"""Handles, hashtags and anything with a digit (prices, times) count as words too."""


class TextLine(msgspec.Struct, frozen=True):
    """One line of text found in the image; positions and height are fractions of the image."""

    text: str
    left: float = 0.0
    top: float = 0.0
    height: float = 0.0
    """The line's height over the image's: how prominent the text is."""


class OcrEngine(Protocol):
    name: str

    @property
    def unavailable(self) -> str:
        """Why the engine cannot run here (its models failed to load); empty while it can."""
        ...

    def read(self, image: Image.Image) -> list[TextLine]:
        """The lines of ``image`` in reading order; [] if none or the engine cannot run."""
        ...


def _looks_like_word(token: str) -> bool:
    if _SYMBOL_WORD.match(token):
        return True
    letters = sum(ch.isalnum() for ch in token)
    return letters >= 2 and letters / len(token) >= 0.6 and bool(_WORD.match(token))


def _keep(lines: list[TextLine]) -> list[TextLine]:
    """Lines with their junk tokens removed; nothing at all if too few letters remain."""
    kept = []
    for line in lines:
        words = [word for word in line.text.split() if _looks_like_word(word)]
        if words:
            kept.append(msgspec.structs.replace(line, text=" ".join(words)))
    letters = sum(ch.isalnum() for line in kept for ch in line.text)
    return kept if letters >= MIN_TEXT_CHARS else []


def joined(lines: list[TextLine]) -> str:
    return "\n".join(line.text for line in lines)


class TesseractEngine:
    """Tesseract through pytesseract, one process per image."""

    name = "tesseract"
    unavailable = ""  # a missing binary is only warned about: there is nothing to fall back to

    def __init__(self, language: str = "eng") -> None:
        self._language = language
        self._warned = threading.Event()

    def read(self, image: Image.Image) -> list[TextLine]:
        # Tesseract's OpenMP threads fight the worker's own concurrency; one is fastest.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        gray = image.convert("L")
        gray.thumbnail((TESSERACT_MAX_EDGE, TESSERACT_MAX_EDGE))
        try:
            data = pytesseract.image_to_data(
                gray,
                lang=self._language,
                output_type=pytesseract.Output.DICT,
                timeout=TIMEOUT_SECONDS,
            )
        except pytesseract.TesseractNotFoundError:
            if not self._warned.is_set():
                self._warned.set()
                logger.warning("local.ocr_unavailable", engine=self.name, reason="no binary")
            return []
        except (RuntimeError, pytesseract.TesseractError) as error:
            logger.warning("local.ocr_failed", engine=self.name, error=str(error)[:200])
            return []
        return _keep(_tesseract_lines(data, gray.width, gray.height))


def _tesseract_lines(data: dict[str, list[object]], width: int, height: int) -> list[TextLine]:
    grouped: dict[tuple[object, ...], list[int]] = {}
    for index, token in enumerate(data["text"]):
        confident = float(str(data["conf"][index])) >= TESSERACT_MIN_CONFIDENCE
        if str(token).strip() and confident:
            key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
            grouped.setdefault(key, []).append(index)
    lines = []
    for indexes in grouped.values():
        top = min(int(str(data["top"][i])) for i in indexes)
        bottom = max(int(str(data["top"][i])) + int(str(data["height"][i])) for i in indexes)
        lines.append(
            TextLine(
                text=" ".join(str(data["text"][i]).strip() for i in indexes),
                left=min(int(str(data["left"][i])) for i in indexes) / width,
                top=top / height,
                height=(bottom - top) / height,
            )
        )
    return lines


class RapidOcrEngine:
    """PP-OCRv6 (small) detection + recognition on onnxruntime; loaded on first use."""

    name = "rapidocr"

    def __init__(self, *, threads: int = 1, max_edge: int = RAPID_MAX_EDGE) -> None:
        self._threads = threads
        self._max_edge = max_edge
        self._lock = threading.Lock()
        self._engine: object | None = None
        self.unavailable = ""
        """Why the models could not be loaded; empty while they can."""

    def _load(self) -> object | None:
        with self._lock:
            if self._engine is None and not self.unavailable:
                try:
                    from rapidocr import RapidOCR  # noqa: PLC0415 - 1-2 s, paid once, lazily

                    self._engine = RapidOCR(params=self._params())
                except Exception as error:  # noqa: BLE001 - any failure means "use Tesseract"
                    self.unavailable = f"{type(error).__name__}: {error}"[:300]
                    logger.warning(
                        "local.ocr_unavailable", engine=self.name, reason=self.unavailable
                    )
            return self._engine

    def _params(self) -> dict[str, object]:
        return {
            "Global.log_level": "error",
            # Screenshots and photos are upright; the 180-degree classifier only costs time.
            "Global.use_cls": False,
            "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.limit_type": "max",
            "Det.limit_side_len": self._max_edge,
        }

    def read(self, image: Image.Image) -> list[TextLine]:
        engine = self._load()
        if engine is None:
            return []
        rgb = np.asarray(image.convert("RGB"))[:, :, ::-1]  # the engine expects OpenCV's BGR
        try:
            output = engine(rgb)  # type: ignore[operator]
        except Exception as error:  # noqa: BLE001 - one unreadable image costs its text only
            logger.warning("local.ocr_failed", engine=self.name, error=str(error)[:200])
            return []
        boxes, texts, scores = output.boxes, output.txts, output.scores
        if boxes is None or texts is None or scores is None:
            return []
        lines = [
            _rapid_line(box, text, image.width, image.height)
            for box, text, score in zip(boxes, texts, scores, strict=True)
            if score >= RAPID_MIN_SCORE and str(text).strip()
        ]
        return _keep(sorted(lines, key=lambda line: (round(line.top, 2), line.left)))


def _rapid_line(box: object, text: str, width: int, height: int) -> TextLine:
    points = np.asarray(box, dtype=np.float64)
    top, bottom = float(points[:, 1].min()), float(points[:, 1].max())
    return TextLine(
        text=" ".join(str(text).split()),
        left=float(points[:, 0].min()) / width,
        top=top / height,
        height=(bottom - top) / height,
    )


Gate = Callable[[Image.Image, list[TextLine]], bool]


class GatedOcr:
    """Tesseract first; RapidOCR as well when ``gate`` says the image is worth it.

    RapidOCR reads large, outlined and shadowed text that Tesseract misses, at several times the
    cost; most photos have no text at all. The gate (a screenshot's shape or flat background, or
    any line Tesseract found) spends that cost only where text is likely.
    """

    name = "tesseract+rapidocr"

    def __init__(self, first: TesseractEngine, second: RapidOcrEngine, gate: Gate) -> None:
        self._first, self._second, self._gate = first, second, gate

    @property
    def unavailable(self) -> str:
        return self._second.unavailable

    def read(self, image: Image.Image) -> list[TextLine]:
        lines = self._first.read(image)
        if not self._gate(image, lines):
            return lines
        return self._second.read(image) or lines
