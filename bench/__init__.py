"""Benchmarks, run by ``python -m bench`` (``make bench``).

A benchmark is a module in this package with a ``run() -> dict`` function: it prints its own
table, with any baseline measured in the same run, and returns its headline numbers. A missed
target is printed, not raised; only a crash fails the run.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

Benchmark = Callable[[], Mapping[str, Any]]


def discover() -> dict[str, Benchmark]:
    """Every module of this package that defines ``run()``, by module name, sorted."""
    found: dict[str, Benchmark] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        run = getattr(module, "run", None)
        if callable(run):
            found[module_info.name] = run
    return found
