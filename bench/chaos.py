"""``make chaos``: the chaos drain on a fresh local stack, with its figures printed.

300 uploads through the API at 2 per second while the ingest, analyzer and embedder processes are
SIGKILLed at random moments (3 times each), PostgreSQL is killed once and the AWS emulator is
restarted once; then every accepted upload must be ``searchable`` or ``failed`` with a reason,
with no duplicate item, analysis, embedding or object. Exit status 1 if anything is lost or
duplicated. Not part of ``make bench`` (it has no ``run()``): ``python -m bench.chaos --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

from collections_devtools.chaos import CHAOS_ENV, ChaosPlan, ChaosReport, ChaosRun
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.stack import stack_config


def _plan(argv: list[str]) -> tuple[Path | None, ChaosPlan]:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--rate", type=float, default=2.0, help="uploads per second")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs per worker service")
    parser.add_argument("--postgres-restarts", type=int, default=1)
    parser.add_argument("--emulator-restarts", type=int, default=1)
    parser.add_argument(
        "--emulator-signal",
        choices=("TERM", "KILL"),
        default="TERM",
        help="TERM restarts through the emulator's snapshot; KILL loses its last 2 s of state",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--home", type=Path, help="keep the stack's state and logs here")
    args = parser.parse_args(argv)
    return args.home, ChaosPlan(
        uploads=args.uploads,
        rate_per_second=args.rate,
        kills_per_worker=args.kills,
        postgres_restarts=args.postgres_restarts,
        emulator_restarts=args.emulator_restarts,
        emulator_signal=signal.Signals[f"SIG{args.emulator_signal}"],
        seed=args.seed,
    )


async def _run(home: Path | None, plan: ChaosPlan) -> ChaosReport:
    if home is not None:
        return await _run_in(home / "state", plan)
    with tempfile.TemporaryDirectory(prefix="collections-chaos-") as folder:
        return await _run_in(Path(folder) / "state", plan)


async def _run_in(state: Path, plan: ChaosPlan) -> ChaosReport:
    stack = LocalStack(stack_config(state, **CHAOS_ENV))
    try:
        started = time.monotonic()
        await stack.start()
        print(f"stack up in {time.monotonic() - started:.1f} s; {plan}", flush=True)
        return await ChaosRun(stack, plan, say=lambda line: print(line, flush=True)).run()
    finally:
        await stack.stop()


def main(argv: list[str]) -> int:
    """Run one chaos drain; 1 if anything was lost or duplicated."""
    home, plan = _plan(argv)
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(_run(home, plan))
    print("\n=== chaos drain ===")
    for line in report.lines():
        print(line)
    for problem in [*report.lost, *report.duplicates]:
        print(f"  ! {problem}")
    return 1 if report.lost or report.duplicates else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
