"""Is it a screenshot, from which app, and what do its words say: offline and deterministic.

Screenshot cues: a phone's aspect ratio, a status bar (a clock at the very top), large flat
areas of one colour (an app's background), dense text, handles or hashtags, an app's interface
words, and no camera in the EXIF. From the text: ``@handles`` (the first near the top, or one
on a line of its own, is the poster), ``#hashtags``, prices with their currency as written, the
most prominent line as the headline, and the app named by its chrome ("Liked by", "For You",
"Repost", ...).
"""

from __future__ import annotations

import re

import msgspec
import numpy as np
from PIL import Image

from collections_analyzer.local.ocr import TextLine

PHONE_RATIO = 1.9
"""Height over width of phone screens (19.5:9 is 2.17); photos are 1.33 to 1.78."""
FLAT_SHARE = 0.25
SCREENSHOT_SCORE = 2.0
_CLOCK = re.compile(r"^\d{1,2}[:.]\d{2}(\s?[AaPp][Mm])?$")
HANDLE = re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
HASHTAG = re.compile(r"(?<![\w#&])#[^\W\d_][\w]{1,48}", re.UNICODE)
PRICE = re.compile(
    r"(?:(?:US|MX|CA|AU|NZ|HK|R|S)?[$€£¥₩₺₫฿₹₽]\s?\d[\d,.]*"
    r"|\d[\d,.]*\s?(?:€|EUR|USD|GBP|JPY|yen|baht|pesos|kr)\b)",
    re.IGNORECASE,
)
# Interface words that name an app, lowercased; two different ones make the call.
APP_MARKERS: dict[str, tuple[str, ...]] = {
    "instagram": ("instagram", "liked by", "view all", "comments", "follow", "reels"),
    "tiktok": ("tiktok", "for you", "following", "original sound", "friends", "inbox"),
    "x": ("repost", "quote", "views", "post your reply", "twitter", "for you", "following"),
    "facebook": ("facebook", "like", "comment", "share", "marketplace"),
    "reddit": ("reddit", "upvote", "r/", "join", "award"),
    "youtube": ("youtube", "subscribe", "views", "shorts"),
    "pinterest": ("pinterest", "save", "visit site", "more to explore"),
    "whatsapp": ("whatsapp", "online", "last seen", "typing", "type a message"),
    "maps": ("directions", "start", "route", "google maps", "open now", "reviews"),
    "notes": ("notes", "done"),
}
APP_WORDMARKS = frozenset(
    {
        "instagram",
        "tiktok",
        "twitter",
        "facebook",
        "reddit",
        "youtube",
        "pinterest",
        "whatsapp",
        "notes",
    }
)


class ScreenshotCues(msgspec.Struct, frozen=True, kw_only=True):
    """What the image's layout and text say; ``score`` >= :data:`SCREENSHOT_SCORE` is a
    screenshot."""

    score: float
    reasons: list[str]
    app: str = ""

    @property
    def is_screenshot(self) -> bool:
        return self.score >= SCREENSHOT_SCORE


class TextFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Fields read from the visible text."""

    headline: str = ""
    poster: str = ""
    accounts: list[str] = msgspec.field(default_factory=list)
    hashtags: list[str] = msgspec.field(default_factory=list)
    prices: list[str] = msgspec.field(default_factory=list)


def flat_share(image: Image.Image) -> float:
    """The share of pixels in the most common colour (coarsely quantized) of a small copy."""
    small = image.convert("RGB")
    small.thumbnail((128, 128))
    pixels = np.asarray(small, dtype=np.uint8).reshape(-1, 3) // 16
    _, counts = np.unique(pixels, axis=0, return_counts=True)
    return float(counts.max() / counts.sum())


def detect_app(lines: list[TextLine]) -> str:
    """The app whose interface words appear most (at least two), or a wordmark seen alone."""
    text = " \n".join(line.text.lower() for line in lines)
    words = {line.text.lower().strip() for line in lines}
    hits = {app: sum(marker in text for marker in markers) for app, markers in APP_MARKERS.items()}
    app, count = max(hits.items(), key=lambda pair: pair[1])
    if count >= 2:
        return app
    wordmark = next((word for word in words if word in APP_WORDMARKS), "")
    return {"twitter": "x"}.get(wordmark, wordmark)


def screenshot_cues(image: Image.Image, lines: list[TextLine], *, camera: str) -> ScreenshotCues:
    """Score the screenshot cues of ``image`` and its text lines."""
    reasons: list[str] = []
    score = 0.0
    if image.height / image.width >= PHONE_RATIO:
        score, reasons = score + 1.0, [*reasons, "phone aspect ratio"]
    if any(line.top < 0.04 and _CLOCK.match(line.text) for line in lines):
        score, reasons = score + 1.5, [*reasons, "status bar clock"]
    if flat_share(image) >= FLAT_SHARE:
        score, reasons = score + 0.75, [*reasons, "flat interface background"]
    characters = sum(len(line.text) for line in lines)
    if len(lines) >= 5 and characters >= 80:
        score, reasons = score + 0.75, [*reasons, "dense text"]
    if any(HANDLE.search(line.text) or HASHTAG.search(line.text) for line in lines):
        score, reasons = score + 0.5, [*reasons, "handles or hashtags"]
    app = detect_app(lines)
    if app:
        score, reasons = score + 1.0, [*reasons, f"{app} interface"]
    if camera:
        score, reasons = score - 1.5, [*reasons, "camera in EXIF"]
    return ScreenshotCues(score=score, reasons=reasons, app=app)


def text_facts(lines: list[TextLine]) -> TextFacts:
    """Handles, hashtags, prices and the headline in ``lines`` (in reading order)."""
    handles = list(dict.fromkeys(h.lower() for line in lines for h in HANDLE.findall(line.text)))
    # The poster's handle heads the post (Instagram, X) or stands on a line of its own above the
    # caption (TikTok); a handle inside a sentence is a mention.
    top_handles = [
        handle for line in lines if line.top < 0.3 for handle in HANDLE.findall(line.text.lower())
    ]
    alone = [line.text.strip().lower() for line in lines if HANDLE.fullmatch(line.text.strip())]
    poster = next(iter(top_handles or alone), "")
    hashtags = list(
        dict.fromkeys(tag.lower() for line in lines for tag in HASHTAG.findall(line.text))
    )
    prices = list(dict.fromkeys(p.strip() for line in lines for p in PRICE.findall(line.text)))
    return TextFacts(
        headline=_headline(lines),
        poster=poster,
        accounts=[handle for handle in handles if handle != poster],
        hashtags=hashtags,
        prices=prices,
    )


def _headline(lines: list[TextLine]) -> str:
    """The tallest line that says something (not a clock, a handle, a tag or an app's word)."""
    candidates = [line for line in lines if _says_something(line.text)]
    if not candidates:
        return ""
    tallest = max(line.height for line in candidates)
    # Among lines nearly as tall as the tallest, the first one read.
    prominent = next(line for line in candidates if line.height >= 0.85 * tallest)
    return " ".join(prominent.text.split())


def _says_something(text: str) -> bool:
    words = [
        word
        for word in text.split()
        if not HANDLE.fullmatch(word) and not HASHTAG.fullmatch(word) and not _CLOCK.match(word)
    ]
    letters = sum(ch.isalpha() for word in words for ch in word)
    interface = text.lower().strip() in APP_WORDMARKS or any(
        text.lower().strip() == marker for markers in APP_MARKERS.values() for marker in markers
    )
    return len(words) >= 2 and letters >= 6 and not interface
