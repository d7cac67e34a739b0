"""Uploaded file names are shown, never used as paths, and cannot disguise themselves."""

from __future__ import annotations

import pytest

from collections_shared.domain.filenames import sanitize_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("photo\x00.jpg", "photo.jpg"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("", "upload"),
        ("...", "upload"),
        ("beach sunset.jpg", "beach sunset.jpg"),
    ],
)
def test_dangerous_names_are_neutralised(raw: str, expected: str) -> None:
    """Path parts, NUL and bidi overrides are removed; an empty result becomes ``upload``."""
    assert expected == sanitize_filename(raw)


def test_long_names_are_capped_keeping_the_extension() -> None:
    """A 1,000-character name is cut to 255 characters and keeps its extension."""
    name = sanitize_filename("a" * 1000 + ".jpeg")
    assert 255 == len(name)
    assert name.endswith(".jpeg")
