"""Run Pillow's metadata parsing with warnings recorded, whatever the process's filters say."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# catch_warnings swaps a process-wide list; serialize our own uses so two worker threads cannot
# restore each other's filters. Only cheap work (header and EXIF parsing) runs under it.
_LOCK = threading.Lock()


@contextmanager
def recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Collect warnings instead of printing or raising them.

    Pillow warns about decompression bombs (which we must refuse, not print) and about skipped
    EXIF tags (which we ignore); neither should depend on the host's warning configuration.
    """
    with _LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
