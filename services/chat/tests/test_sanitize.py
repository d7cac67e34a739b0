"""Images never survive into a reply, whole or streamed in any chunking."""

from __future__ import annotations

import pytest

from collections_chat.sanitize import ImageFilter, strip_images

CASES = [
    ("see ![x](https://evil.example/?d=1) here", "see  here"),
    ('see ![x](https://evil.example/a.png "title") here', "see  here"),
    ("ref ![alt][logo] style", "ref  style"),
    ("shortcut ![logo] style", "shortcut  style"),
    ("html <img src=https://evil.example/x onerror=alert(1)> tag", "html  tag"),
    ("HTML <IMG SRC='https://evil.example/x'/> upper", "HTML  upper"),
    ("a [link](https://example.com) stays", "a [link](https://example.com) stays"),
    ("Wow! Great <b>bold</b> stays!", "Wow! Great <b>bold</b> stays!"),
    ("unclosed ![alt](https://evil.example/x", "unclosed [alt](https://evil.example/x"),
    ("ends with ![alt]", "ends with "),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_strip_images_removes_every_image_form(text: str, expected: str) -> None:
    """Inline, reference, shortcut and HTML images go; links, punctuation and other tags stay."""
    assert expected == strip_images(text)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize(("text", "expected"), CASES)
def test_streaming_in_any_chunking_gives_the_same_text(text: str, expected: str, size: int) -> None:
    """Feeding the text in chunks of any size emits exactly what strip_images returns."""
    images = ImageFilter()
    out = "".join(images.feed(text[i : i + size]) for i in range(0, len(text), size))

    assert expected == out + images.flush()


def test_an_image_left_open_too_long_can_never_close() -> None:
    """A very long alt text is defused (its "!" dropped), so a later "](url)" makes no image."""
    images = ImageFilter()
    emitted = images.feed("![" + "a" * 600)
    emitted += images.feed("](https://evil.example/x)") + images.flush()

    assert not emitted.startswith("!")
    assert "![" not in emitted
