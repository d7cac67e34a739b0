"""HTTP load for the benchmarks: wrk when it is installed, else a small, labelled Python generator.

Both keep ``connections`` keep-alive connections busy for ``seconds`` from one process pinned to
one core (the server gets the other), and report requests per second, p50 and p99 latency, and
how many answers were not 2xx. The Python generator is a fallback only: on one core it saturates
well before a fast server does, so its numbers are a floor, and the table says which tool ran.

``python -m bench._load URL SECONDS CONNECTIONS [HEADER ...]`` runs the Python generator and
prints its result as JSON (the benchmarks start it that way, pinned, in its own process).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    """Answers that were not 2xx/3xx, plus socket errors and timeouts."""


def pinned(core: int | None, argv: list[str]) -> list[str]:
    """``argv`` run on one CPU core with taskset, when there is a core to spare and taskset."""
    if core is None or (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(core), *argv]


def ensure_wrk() -> str | None:
    """wrk's path; installs Debian's package when running as root, else says how to."""
    found = shutil.which("wrk")
    if found or not (shutil.which("apt-get") and os.geteuid() == 0):
        if not found:
            print(
                "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu) or "
                "`brew install wrk`; falling back to the Python load generator"
            )
        return found
    print("wrk is not installed; installing Debian's package (running as root)")
    for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(step, check=False, capture_output=True, timeout=600)
    return shutil.which("wrk")


def run_load(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    core: int | None,
    wrk: str | None,
) -> LoadResult:
    """Drive ``url`` from a separate process pinned to ``core``."""
    header_args = [f"{name}: {value}" for name, value in headers.items()]
    if wrk:
        argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
        for header in header_args:
            argv[1:1] = ["-H", header]
        done = subprocess.run(
            pinned(core, argv), capture_output=True, text=True, check=True, timeout=seconds + 60
        )
        return parse_wrk(done.stdout)
    argv = [sys.executable, "-m", "bench._load", url, str(seconds), str(connections), *header_args]
    done = subprocess.run(
        pinned(core, argv), capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return LoadResult(**json.loads(done.stdout))


def parse_wrk(output: str) -> LoadResult:
    """The figures of ``wrk --latency`` output."""
    percentiles = {
        int(match[1]): float(match[2]) * _UNIT_MS[match[3]]
        for match in _PERCENTILE.finditer(output)
    }
    rate, total = _RATE.search(output), _TOTAL.search(output)
    if rate is None or total is None or set(percentiles) != {50, 99}:
        msg = f"cannot read wrk's output:\n{output}"
        raise ValueError(msg)
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    return LoadResult(
        tool="wrk",
        requests_per_second=float(rate[1]),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        requests=int(total[1]),
        errors=(int(non_2xx[1]) if non_2xx else 0)
        + (sum(int(count) for count in sockets.groups()) if sockets else 0),
    )


async def _connection(
    host: str, port: int, request: bytes, until: float, latencies: list[float]
) -> int:
    """Send ``request`` again and again on one keep-alive connection; returns the error count."""
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            await reader.readexactly(int(length[1]) if length else 0)
            latencies.append(time.perf_counter() - started)
            errors += status >= 400
    finally:
        writer.close()
    return errors


async def python_load(url: str, seconds: int, connections: int, headers: list[str]) -> LoadResult:
    """The fallback generator: ``connections`` asyncio connections in this one process."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        + "".join(f"{header}\r\n" for header in headers)
        + "\r\n"
    ).encode()
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    errors = await asyncio.gather(
        *(
            _connection(parts.hostname or "127.0.0.1", parts.port or 80, request, until, latencies)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return LoadResult(
        tool="python (wrk missing)",
        requests_per_second=len(ordered) / elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        requests=len(ordered),
        errors=sum(errors),
    )


if __name__ == "__main__":
    url, seconds, connections, *extra = sys.argv[1:]
    result = asyncio.run(python_load(url, int(seconds), int(connections), extra))
    print(json.dumps(asdict(result)))
