"""``python -m bench [NAME ...]``: run every benchmark (or the named ones) and print a summary."""

from __future__ import annotations

import json
import sys
import time

from bench import discover


def main(argv: list[str]) -> int:
    """Run the benchmarks; exit 2 for an unknown name, and let a crash fail the run."""
    benchmarks = discover()
    names = argv or list(benchmarks)
    unknown = [name for name in names if name not in benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(benchmarks)}")
        return 2
    summary: dict[str, object] = {}
    for name in names:
        print(f"\n=== bench.{name} ===")
        started = time.perf_counter()
        summary[name] = benchmarks[name]()
        print(f"--- bench.{name}: {time.perf_counter() - started:.1f} s")
    print("\n=== summary ===")
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
