"""Upload → searchable on the real local stack with local providers, at a steady 2 uploads/s.

Starts the whole system (embedded PostgreSQL, the AWS emulator, six services) in a temporary
directory, signs up a user, follows ``GET /events`` (server-sent status changes), and uploads
photos at a fixed rate. For each upload it records the time from sending the request to the
``searchable`` event, and each stage in between (``processed``, ``analyzed``). The baseline in
the same run is the API's own upload round trip (202), the floor any pipeline latency sits on.

Targets (issue "Pipeline"): p50 ≤ 1.5 s, p95 ≤ 3 s. Run ``python -m bench pipeline``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.stack import stack_config

UPLOADS = 40
RATE_PER_SECOND = 2.0
TARGET_P50 = 1.5
TARGET_P95 = 3.0


def _photos(count: int) -> list[bytes]:
    """Golden photos when present (varied real content), else generated JPEGs."""
    files = sorted((GOLDEN / "images").glob("*.jpg")) if (GOLDEN / "images").is_dir() else []
    if files:
        return [
            files[index % len(files)].read_bytes() + index.to_bytes(4, "big")
            for index in range(count)
        ]
    return [jpeg(640, 480, seed=index) for index in range(count)]


async def _follow(
    api: httpx.AsyncClient,
    user: ApiUser,
    seen: dict[str, dict[str, float]],
    finished: asyncio.Event,
) -> None:
    """Record the first time each item reaches each status; flag when all uploads are done."""
    async with api.stream("GET", "/events", headers=user.headers, timeout=None) as stream:
        event = ""
        async for line in stream.aiter_lines():
            if not line:
                event = ""  # a blank line ends the event
            elif line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "status":
                change = json.loads(line.split(":", 1)[1])
                seen.setdefault(change["item_id"], {}).setdefault(
                    change["status"], time.perf_counter()
                )


async def _measure(stack: LocalStack) -> dict[str, Any]:
    photos = _photos(UPLOADS)
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as api:
        user = await sign_up(api, f"bench-{uuid.uuid4().hex[:8]}@example.com")
        seen: dict[str, dict[str, float]] = {}
        finished = asyncio.Event()
        follower = asyncio.create_task(_follow(api, user, seen, finished))
        await asyncio.sleep(0.5)
        sent: dict[str, float] = {}
        round_trips: list[float] = []
        for index, data in enumerate(photos):
            started = time.perf_counter()
            response = await api.post(
                "/items",
                files={"file": (f"p{index}.jpg", data, "image/jpeg")},
                headers=user.headers,
            )
            round_trips.append(time.perf_counter() - started)
            sent[response.json()["id"]] = started
            await asyncio.sleep(max(0.0, 1 / RATE_PER_SECOND - round_trips[-1]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), timeout=120)
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    return _summarise(sent, seen, round_trips)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summarise(
    sent: dict[str, float], seen: dict[str, dict[str, float]], trips: list[float]
) -> dict[str, Any]:
    total = [seen[i]["searchable"] - t for i, t in sent.items() if "searchable" in seen.get(i, {})]
    stages = {
        stage: [seen[i][stage] - t for i, t in sent.items() if stage in seen.get(i, {})]
        for stage in ("processed", "analyzed")
    }
    failed = sum(1 for item in sent if "failed" in seen.get(item, {}))
    return {
        "uploads": len(sent),
        "searchable": len(total),
        "failed": failed,
        "upload_202_p50_s": round(statistics.median(trips), 3),
        "processed_p50_s": round(statistics.median(stages["processed"]), 3)
        if stages["processed"]
        else None,
        "analyzed_p50_s": round(statistics.median(stages["analyzed"]), 3)
        if stages["analyzed"]
        else None,
        "searchable_p50_s": round(statistics.median(total), 3) if total else None,
        "searchable_p95_s": round(_percentile(total, 0.95), 3) if total else None,
        "searchable_max_s": round(max(total), 3) if total else None,
    }


def run() -> dict[str, Any]:
    """Start a stack, measure, stop it, print the table."""

    async def main() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="collections-bench-") as folder:
            stack = LocalStack(stack_config(Path(folder) / "state"))
            try:
                started = await stack.start()
                print(f"stack up in {started:.1f} s; {UPLOADS} uploads at {RATE_PER_SECOND}/s")
                return await _measure(stack)
            finally:
                await stack.stop()

    result = asyncio.run(main())
    print("| measure | seconds |\n|---|---|")
    for key, value in result.items():
        if key.endswith("_s"):
            print(f"| {key.removesuffix('_s')} | {value} |")
    p50, p95 = result["searchable_p50_s"], result["searchable_p95_s"]
    verdict = "PASS" if p50 is not None and p50 <= TARGET_P50 and p95 <= TARGET_P95 else "MISS"
    print(
        f"{result['searchable']}/{result['uploads']} searchable, {result['failed']} failed; "
        f"target p50 ≤ {TARGET_P50} s, p95 ≤ {TARGET_P95} s: {verdict}"
    )
    return result
