"""The offline analyzer: real image cues, no network, no keys (``provider = "local"``).

OCR, colours, faces and the scene classifier run in worker threads (CPU-bound; onnxruntime,
OpenCV and Tesseract release the GIL), while the Node object tagger works on a small copy of the
image at the same time. Screenshots are recognised from their layout and text and read for
handles, hashtags, prices, a headline and the app (:mod:`collections_analyzer.local.screenshot`).
"""

from __future__ import annotations

import asyncio
import io
import time

import msgspec
from PIL import Image

from collections_analyzer.local.classifier import SceneClassifier, SceneLabel
from collections_analyzer.local.colors import dominant_colors
from collections_analyzer.local.cues import filename_words, season, time_of_day
from collections_analyzer.local.describe import VisualCues, describe
from collections_analyzer.local.faces import count_faces
from collections_analyzer.local.objects import Detection, ObjectTagger
from collections_analyzer.local.ocr import (
    GatedOcr,
    OcrEngine,
    RapidOcrEngine,
    TesseractEngine,
    TextLine,
)
from collections_analyzer.local.screenshot import (
    FLAT_SHARE,
    PHONE_RATIO,
    flat_share,
    screenshot_cues,
    text_facts,
)
from collections_analyzer.providers.base import AnalysisResult, ImageInput, ProviderOutputError
from collections_shared.domain.analysis import OFFLINE_PROVIDER
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis

LOCAL_MODEL = "local-v2"
LOCAL_VERSION = "2026-12-local-v2"
TAGGER_EDGE = 640
"""CenterNet looks at 512 px; a 640 px JPEG keeps the pipe and the JS decoder cheap."""
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_PIXELS = 4096 * 4096
"""Generous for a preview (<= 1568 px); anything bigger is refused before decoding."""


class LocalProvider:
    """Describes an image from OCR text, screenshot cues, colours, faces, objects, scene labels,
    EXIF and file-name cues."""

    name = OFFLINE_PROVIDER

    def __init__(
        self,
        *,
        tagger: ObjectTagger | None = None,
        ocr: OcrEngine | None = None,
        classifier: SceneClassifier | None = None,
        ocr_language: str = "eng",
    ) -> None:
        self._tagger = tagger
        self._tesseract = TesseractEngine(ocr_language)
        self._ocr = ocr or self._tesseract
        self._classifier = classifier

    async def analyze(self, image: ImageInput) -> AnalysisResult:
        """Analyze ``image`` offline; raises :class:`ProviderOutputError` if it cannot be read."""
        started = time.perf_counter()
        picture, small_jpeg = await asyncio.to_thread(_decode, image.data)
        detections, lines, colors, faces, labels = await asyncio.gather(
            self._detect(small_jpeg),
            asyncio.to_thread(self._read, picture),
            asyncio.to_thread(dominant_colors, picture),
            asyncio.to_thread(count_faces, picture),
            asyncio.to_thread(self._classify, picture),
        )
        camera = " ".join(image.camera.split())[:60]
        cues = VisualCues(
            colors=colors,
            text="\n".join(line.text for line in lines),
            lines=[line.text for line in lines],
            faces=faces,
            detections=detections,
            labels=labels,
            screenshot=screenshot_cues(picture, lines, camera=camera),
            facts=text_facts(lines),
            filename_words=filename_words(image.filename),
            season=season(image.taken_at) if image.taken_at else "",
            time_of_day=time_of_day(image.taken_at) if image.taken_at else "",
            camera=camera,
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
            raw={**raw, "detectors": self.detectors(), "cues": msgspec.to_builtins(cues)},
        )

    async def _detect(self, jpeg: bytes) -> list[Detection]:
        return await self._tagger.detect(jpeg) if self._tagger is not None else []

    def _read(self, picture: Image.Image) -> list[TextLine]:
        lines = self._ocr.read(picture)
        if not lines and self._ocr.unavailable:
            return self._tesseract.read(picture)  # the models could not be loaded
        return lines

    def _classify(self, picture: Image.Image) -> list[SceneLabel]:
        return self._classifier.classify(picture) if self._classifier is not None else []

    def detectors(self) -> list[str]:
        """The cues this analyzer has on this machine (stored with each analysis)."""
        ocr = "tesseract" if self._ocr.unavailable else self._ocr.name
        found = ["colors", f"ocr-{ocr}", "screenshot-cues", "haar-faces", "exif", "filename"]
        if self._tagger is not None and self._tagger.available:
            found.append("centernet-coco80")
        if self._classifier is not None and self._classifier.available:
            found.append(self._classifier.name)
        return found

    async def aclose(self) -> None:
        """Stop the Node tagger, if it was started."""
        if self._tagger is not None:
            await self._tagger.aclose()


def text_likely(image: Image.Image, lines: list[TextLine]) -> bool:
    """Worth a second OCR pass: a phone screen's shape, an interface's flat background, or any
    line the first pass found."""
    tall = image.height / image.width >= PHONE_RATIO
    return bool(lines) or tall or flat_share(image) >= FLAT_SHARE


def ocr_engine(name: str, language: str = "eng") -> OcrEngine:
    """``both`` (Tesseract, then RapidOCR where text is likely), ``rapidocr`` or ``tesseract``."""
    if name == "rapidocr":
        return RapidOcrEngine()
    if name == "tesseract":
        return TesseractEngine(language)
    return GatedOcr(TesseractEngine(language), RapidOcrEngine(), text_likely)


def build_local(
    *,
    tagger: ObjectTagger | None,
    ocr: str = "both",
    classifier: SceneClassifier | None = None,
    ocr_language: str = "eng",
) -> LocalProvider:
    """The local analyzer with the named OCR engine (:func:`ocr_engine`)."""
    return LocalProvider(
        tagger=tagger,
        ocr=ocr_engine(ocr, ocr_language),
        classifier=classifier,
        ocr_language=ocr_language,
    )


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
