"""Finding the images among the paths a user names, by content (never by file name)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import filetype

from collections_cli.errors import CliError

ACCEPTED = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"}
)
"""What the server accepts; it checks again and answers 415 for anything else."""

_HEAD = 262  # filetype reads at most this many bytes


@dataclass(frozen=True)
class ImageFile:
    path: Path
    size: int
    mime: str


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def _walk(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(root, onerror=None, followlinks=False):
        subdirectories.sort()
        found.extend(Path(directory) / name for name in sorted(names))
    return found


def sniff(path: Path) -> str | None:
    """The image type of ``path`` by its first bytes, or None if it is not one we upload."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    return mime if mime in ACCEPTED else None


def collect(paths: list[Path]) -> tuple[list[ImageFile], list[Skipped]]:
    """Every image under ``paths`` (recursively, in name order), and what was skipped and why.

    A path that does not exist is an error before anything is uploaded.
    """
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise CliError(f"no such file or folder: {', '.join(missing)}", exit_code=2)
    images: list[ImageFile] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for root in paths:
        for path in _walk(root):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            if not path.is_file():
                skipped.append(Skipped(path, "not a regular file"))
                continue
            try:
                mime = sniff(path)
                size = path.stat().st_size
            except OSError as error:
                skipped.append(Skipped(path, f"unreadable: {error.strerror or error}"))
                continue
            if mime is None:
                skipped.append(Skipped(path, "not an image (by content)"))
            else:
                images.append(ImageFile(path, size, mime))
    return images, skipped


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
