"""The offline analyzer: real image cues, no network, no keys (``provider = "local"``).

Colours, OCR and faces run in a worker thread (CPU-bound, they would block the event loop), while
the Node object tagger works on a small copy of the image at the same time.
"""

from __future__ import annotations

import asyncio
import io
import time

import msgspec
from PIL import Image

from collections_analyzer.local.colors import dominant_colors
from collections_analyzer.local.cues import filename_words, season, time_of_day
from collections_analyzer.local.describe import VisualCues, describe
from collections_analyzer.local.faces import count_faces
from collections_analyzer.local.objects import Detection, ObjectTagger
from collections_analyzer.local.ocr import read_text
from collections_analyzer.providers.base import AnalysisResult, ImageInput, ProviderOutputError
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis

LOCAL_MODEL = "local-v1"
LOCAL_VERSION = "2026-11-local-v1"
TAGGER_EDGE = 640
"""CenterNet looks at 512 px; a 640 px JPEG keeps the pipe and the JS decoder cheap."""
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_PIXELS = 4096 * 4096
"""Generous for a preview (<= 1568 px); anything bigger is refused before decoding."""


class LocalProvider:
    """Describes an image from colours, OCR text, faces, EXIF and file-name cues, and objects."""

    name = "local"

    def __init__(self, *, tagger: ObjectTagger | None = None, ocr_language: str = "eng") -> None:
        self._tagger = tagger
        self._ocr_language = ocr_language

    async def analyze(self, image: ImageInput) -> AnalysisResult:
        """Analyze ``image`` offline; raises :class:`ProviderOutputError` if it cannot be read."""
        started = time.perf_counter()
        picture, small_jpeg = await asyncio.to_thread(_decode, image.data)
        # Tesseract (a subprocess), OpenCV and Node all release the GIL: run them side by side.
        detections, (colors, text), faces = await asyncio.gather(
            self._detect(small_jpeg),
            asyncio.to_thread(self._colors_and_text, picture),
            asyncio.to_thread(count_faces, picture),
        )
        cues = VisualCues(
            colors=colors,
            text=text,
            faces=faces,
            detections=detections,
            filename_words=filename_words(image.filename),
            season=season(image.taken_at) if image.taken_at else "",
            time_of_day=time_of_day(image.taken_at) if image.taken_at else "",
            camera=" ".join(image.camera.split())[:60],
        )
        raw = describe(cues)
        try:
            analysis = normalize_analysis(raw)
        except InvalidAnalysisError as error:  # pragma: no cover - a summary is always written
            raise ProviderOutputError("malformed_output", str(error)) from error
        return AnalysisResult(
            analysis=analysis,
            provider=self.name,
            model=LOCAL_MODEL,
            prompt_version=LOCAL_VERSION,
            latency_ms=round((time.perf_counter() - started) * 1000),
            raw={**raw, "detectors": self._detectors(), "cues": msgspec.to_builtins(cues)},
        )

    async def _detect(self, jpeg: bytes) -> list[Detection]:
        return await self._tagger.detect(jpeg) if self._tagger is not None else []

    def _colors_and_text(self, picture: Image.Image) -> tuple[list[str], str]:
        return dominant_colors(picture), read_text(picture, self._ocr_language)

    def _detectors(self) -> list[str]:
        found = ["colors", "ocr", "haar-faces", "exif", "filename"]
        if self._tagger is not None and self._tagger.available:
            found.append("centernet-coco80")
        return found

    async def aclose(self) -> None:
        """Stop the Node tagger, if it was started."""
        if self._tagger is not None:
            await self._tagger.aclose()


def _decode(data: bytes) -> tuple[Image.Image, bytes]:
    """The image as RGB, and a small JPEG copy for the tagger."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise ProviderOutputError("image_too_large", "the preview is unexpectedly large")
            picture = opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ProviderOutputError("undecodable_image", type(error).__name__) from error
    small = picture.copy()
    small.thumbnail((TAGGER_EDGE, TAGGER_EDGE))
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=90)
    return picture, buffer.getvalue()
