"""Face count with OpenCV's frontal-face Haar cascade (bundled with opencv-python-headless).

Haar is weak on small or turned faces, but with ``minNeighbors=5`` it rarely fires on things that
are not faces, which is what matters for a "people" cue.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

MAX_EDGE = 800
MIN_FACE = 30
CASCADE = Path(cv2.__file__).resolve().parent / "data" / "haarcascade_frontalface_default.xml"
"""The cascade that ships inside opencv-python-headless (``cv2.data.haarcascades``)."""
_local = threading.local()


def _classifier() -> cv2.CascadeClassifier:
    # One classifier per thread: detectMultiScale is not documented as thread-safe.
    classifier: cv2.CascadeClassifier | None = getattr(_local, "classifier", None)
    if classifier is None:
        # OpenCV's own thread pool fights Tesseract and the Node tagger for the same cores (and
        # spins while waiting): one thread made the whole local analysis 2.5x faster on 2 cores.
        cv2.setNumThreads(1)
        classifier = cv2.CascadeClassifier(str(CASCADE))
        _local.classifier = classifier
    return classifier


def count_faces(image: Image.Image) -> int:
    """How many frontal faces the cascade finds in ``image``."""
    gray = image.convert("L")
    gray.thumbnail((MAX_EDGE, MAX_EDGE))
    pixels = cv2.equalizeHist(np.asarray(gray))
    faces = _classifier().detectMultiScale(
        pixels, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE, MIN_FACE)
    )
    return len(faces)
