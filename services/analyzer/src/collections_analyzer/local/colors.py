"""Named dominant colours: every pixel of a small copy is binned into a colour name by HSV rules.

Names rather than RGB values because they are what people type ("red car"), and HSV rules rather
than the nearest palette entry in RGB because they keep dark reds red and pale blues blue.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

SAMPLE_EDGE = 96
MIN_SHARE = 0.08
MAX_COLORS = 4

# Hue bounds in degrees, checked in order; red wraps around 0.
_HUES = (
    (15.0, "red"),
    (40.0, "orange"),
    (70.0, "yellow"),
    (165.0, "green"),
    (195.0, "teal"),
    (255.0, "blue"),
    (290.0, "purple"),
    (340.0, "pink"),
    (360.0, "red"),
)


def _hue_names(hue: NDArray[np.float64]) -> NDArray[np.str_]:
    names = np.full(hue.shape, "red", dtype="<U8")
    lower = 0.0
    for upper, name in _HUES:
        names[(hue >= lower) & (hue < upper)] = name
        lower = upper
    return names


def pixel_names(image: Image.Image) -> NDArray[np.str_]:
    """The colour name of every pixel of ``image`` (any mode), as a flat array."""
    hsv = np.asarray(image.convert("RGB").convert("HSV"), dtype=np.float64).reshape(-1, 3)
    hue, sat, val = hsv[:, 0] * 360 / 256, hsv[:, 1], hsv[:, 2]
    names = _hue_names(hue)
    warm = (names == "orange") | (names == "red") | (names == "yellow")
    # Dark warm tones read as brown, pale warm ones as beige, pale reds as pink.
    names[warm & (val < 150) & (hue >= 10) & (hue < 50)] = "brown"
    names[warm & (sat < 90) & (val >= 150) & (hue >= 20) & (hue < 55)] = "beige"
    names[(names == "red") & (sat < 110) & (val >= 180)] = "pink"
    grey = sat < 40
    names[grey] = "gray"
    names[grey & (val >= 200)] = "white"
    names[val < 45] = "black"
    return names


def dominant_colors(image: Image.Image) -> list[str]:
    """Colour names covering at least 8% of the image, most prominent first (at most four)."""
    small = image.copy()
    small.thumbnail((SAMPLE_EDGE, SAMPLE_EDGE))
    names, counts = np.unique(pixel_names(small), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    total = counts.sum()
    chosen = [str(names[i]) for i in order if counts[i] / total >= MIN_SHARE]
    return chosen[:MAX_COLORS] or [str(names[order[0]])]
