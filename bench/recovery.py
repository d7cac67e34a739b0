"""Crash recovery: seconds from SIGKILL of a worker that holds an item to that item ``searchable``.

Starts the local stack in a temporary directory and, for each worker in turn (ingest, analyzer,
embedder, then again), uploads one photo, waits until that worker holds its message (its
``collections_messages_in_flight`` gauge on ``/metrics`` reads 1), SIGKILLs the worker's process
group, and times the item until it is ``searchable``. Each upload waits until every queue is
empty, and a kill counts only if, right after it, the item still had the status that worker
moves it on from and the worker's queue still had a message in flight (else the work had
finished and there was nothing to recover). The stack's supervisor restarts the worker, which
receives the message again once its visibility timeout runs out.

So that each stage holds its message long enough to be caught: ingest gets a 24-megapixel photo
(decoding and two derivatives take about a second), the analyzer runs its local provider (OCR,
colours, faces, objects: 1-3 s), and the embedder uses the Voyage API's wire format against the
local fake answering after 2 s (a remote provider's latency). A worker is killed again only once
it has run for 60 s, so the supervisor's restart backoff (which doubles for a process that dies
young) stays at 1 s.

The reconciler looks for stuck items after its production default (300 s), not the test stacks'
30 s, so the visibility timeout alone brings the message back. ``BENCH_RECOVERY_KILLS`` (default
6) kills per worker. ``BENCH_RECOVERY_STANDBY=1`` runs a second process of each worker on the
same queue, as a second task would be in production: the message then comes back to the
survivor after the visibility timeout, whatever the killed process's restart takes (only kills of
the stack's own process count; if the standby took the item, the upload is repeated).
``BENCH_RECOVERY_VISIBILITY`` sets the
workers' visibility timeouts for a comparison, e.g. ``120,300,120`` (ingest, analyzer,
embedder: the values before heartbeats made short ones safe). Run ``python -m bench recovery``.
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from PIL import Image

from collections_devtools.fakes.voyage import FakeVoyage, Reply
from collections_devtools.local.readiness import wait_for_http
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up, upload
from collections_devtools.testing.fixtures import free_port
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.outages import queue_depths, restart_service, wait_healthy
from collections_devtools.testing.stack import stack_config
from collections_shared.aws import AwsClients

WORKERS = ("ingest", "analyzer", "embedder")
WAITING = {"ingest": "uploaded", "analyzer": "processed", "embedder": "analyzed"}
"""The status an item has while each worker holds its message."""
KILLS = int(os.environ.get("BENCH_RECOVERY_KILLS", "6"))
STANDBY = os.environ.get("BENCH_RECOVERY_STANDBY", "") not in {"", "0"}
TARGET_P95_SECONDS = 30.0
_STABLE_SECONDS = 61.0  # the supervisor resets its restart backoff after 60 s up
_EMBED_DELAY_SECONDS = 2.0


@dataclass
class Trial:
    worker: str
    seconds: float
    restart_seconds: float
    """From the kill until the worker answered /health again."""


@dataclass
class Rig:
    stack: LocalStack
    api: httpx.AsyncClient
    user: ApiUser
    voyage: FakeVoyage
    photos: list[bytes]
    up_since: dict[str, float] = field(default_factory=dict)
    standby: dict[str, str] = field(default_factory=dict)
    """Each worker's second process, when ``BENCH_RECOVERY_STANDBY`` is set: its URL."""
    trials: list[Trial] = field(default_factory=list)
    missed: dict[str, int] = field(default_factory=dict)


def _visibility_env() -> dict[str, str]:
    raw = os.environ.get("BENCH_RECOVERY_VISIBILITY", "").strip()
    if not raw:
        return {}
    values = [value.strip() for value in raw.split(",")]
    return {
        f"{worker.upper()}_VISIBILITY_TIMEOUT": value
        for worker, value in zip(WORKERS, values, strict=True)
    }


def _large_photo(seed: int) -> bytes:
    """A golden photo scaled to 6000 x 4000 (or a generated one), distinct bytes per seed."""
    files = sorted((GOLDEN / "images").glob("*.jpg")) if (GOLDEN / "images").is_dir() else []
    if not files:
        return jpeg(6000, 4000, seed=seed)
    with Image.open(files[seed % len(files)]) as source:
        image = source.convert("RGB").resize((6000, 4000))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue() + seed.to_bytes(4, "big")


def _photo(rig: Rig, worker: str, seed: int) -> bytes:
    if worker == "ingest":
        return _large_photo(seed)
    return rig.photos[seed % len(rig.photos)] + b"recovery" + seed.to_bytes(4, "big")


async def _in_flight(http: httpx.AsyncClient, url: str, queue: str) -> float:
    text = (await http.get(f"{url}/metrics")).text
    prefix = f'collections_messages_in_flight{{queue="{queue}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


async def _wait_in_flight(rig: Rig, worker: str, within: float = 120) -> bool:
    """Until the stack's ``worker`` holds a message: True; False if its standby took it."""
    deadline = time.monotonic() + within
    queue = f"collections-{worker}"
    standby = rig.standby.get(worker)
    async with httpx.AsyncClient(timeout=2) as http:
        while await _in_flight(http, rig.stack.url(worker), queue) < 1:
            if standby is not None and await _in_flight(http, standby, queue) >= 1:
                return False
            if time.monotonic() > deadline:
                msg = f"{worker} did not take the item within {within:.0f} s"
                raise RuntimeError(msg)
            await asyncio.sleep(0.005)
    return True


async def _held(stack: LocalStack, worker: str) -> int:
    """Messages of the worker's queue that are in flight (hidden) right now."""
    assert stack.outputs is not None
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    async with aws.client("sqs") as sqs:
        response = await sqs.get_queue_attributes(
            QueueUrl=stack.outputs.queue_urls[f"collections-{worker}"],
            AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
        )
    return int(response["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


async def _status(stack: LocalStack, item_id: str) -> str:
    connection = await asyncpg.connect(stack.owner_database_url(), timeout=5)
    try:
        status: str = await connection.fetchval(
            "SELECT status FROM items WHERE id = $1", uuid.UUID(item_id)
        )
    finally:
        await connection.close()
    return status


async def _wait_searchable(stack: LocalStack, item_id: str, within: float = 900) -> None:
    deadline = time.monotonic() + within
    while (status := await _status(stack, item_id)) != "searchable":
        if status == "failed" or time.monotonic() > deadline:
            msg = f"item {item_id} ended {status}, not searchable"
            raise RuntimeError(msg)
        await asyncio.sleep(0.1)


async def _quiet(stack: LocalStack, within: float = 900) -> None:
    """Until no queue holds a message (a killed stage's late redelivery included)."""
    deadline = time.monotonic() + within
    while any((await queue_depths(stack)).values()):
        if time.monotonic() > deadline:
            msg = f"the queues did not empty within {within:.0f} s"
            raise RuntimeError(msg)
        await asyncio.sleep(0.5)


async def _trial(rig: Rig, worker: str, seed: int) -> Trial | None:
    """One upload, one kill of ``worker`` while it holds it; None if the kill came too late."""
    stack = rig.stack
    await _quiet(stack)  # so the message the worker holds is this item's
    await asyncio.sleep(
        max(0.0, rig.up_since.get(worker, 0.0) + _STABLE_SECONDS - time.monotonic())
    )
    if worker == "embedder":
        rig.voyage.script(Reply.slow(_EMBED_DELAY_SECONDS))
    response = await upload(rig.api, rig.user, _photo(rig, worker, seed), f"r{seed}.jpg")
    assert response.status_code == 202, response.text
    item_id = str(response.json()["id"])
    if not await _wait_in_flight(rig, worker):
        await _wait_searchable(stack, item_id)
        rig.missed[worker] = rig.missed.get(worker, 0) + 1
        return None
    stack.processes[worker].kill()
    killed = time.monotonic()
    held = await _held(stack, worker) if await _status(stack, item_id) == WAITING[worker] else 0
    await wait_healthy(stack, worker, within=120)
    restarted = time.monotonic()
    rig.up_since[worker] = restarted
    await _wait_searchable(stack, item_id)
    if held < 1:
        rig.missed[worker] = rig.missed.get(worker, 0) + 1
        return None
    return Trial(worker, time.monotonic() - killed, restarted - killed)


async def _run(rig: Rig) -> None:
    seed = 0
    for round_number in range(KILLS):
        for worker in WORKERS:
            while True:
                seed += 1
                trial = await _trial(rig, worker, seed)
                if trial is not None:
                    break
            rig.trials.append(trial)
            print(
                f"  round {round_number + 1}/{KILLS} {worker:8} searchable {trial.seconds:6.1f} s "
                f"after the kill (worker back in {trial.restart_seconds:.1f} s)",
                flush=True,
            )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _report(rig: Rig, visibility: dict[str, str]) -> dict[str, Any]:
    label = ", ".join(f"{k}={v}" for k, v in visibility.items()) or "the defaults"
    standby = "a standby process per worker" if STANDBY else "one process per worker"
    print(f"\nvisibility timeouts: {label}; {standby}; {KILLS} kills per worker")
    print("| worker | kills | p50 s | p95 s | max s | worker back (median) s | missed kills |")
    print("|---|---|---|---|---|---|---|")
    summary: dict[str, Any] = {"visibility": visibility or "defaults", "standby": STANDBY}
    for worker in WORKERS:
        seconds = [t.seconds for t in rig.trials if t.worker == worker]
        restarts = [t.restart_seconds for t in rig.trials if t.worker == worker]
        p50, p95 = _percentile(seconds, 0.5), _percentile(seconds, 0.95)
        print(
            f"| {worker} | {len(seconds)} | {p50:.1f} | {p95:.1f} | {max(seconds):.1f} | "
            f"{statistics.median(restarts):.1f} | {rig.missed.get(worker, 0)} |"
        )
        verdict = "PASS" if p95 < TARGET_P95_SECONDS else "MISS"
        summary[worker] = {"p50_s": round(p50, 1), "p95_s": round(p95, 1), "verdict": verdict}
    return summary


async def _check_no_duplicates(stack: LocalStack, user: ApiUser) -> list[str]:
    """Items with more than one analysis or embedding (work done twice)."""
    connection = await asyncpg.connect(stack.owner_database_url(), timeout=5)
    try:
        rows = await connection.fetch(
            """SELECT i.id::text AS id,
                      (SELECT count(*) FROM analyses a WHERE a.item_id = i.id) AS analyses,
                      (SELECT count(*) FROM embeddings e WHERE e.item_id = i.id) AS embeddings
                 FROM items i WHERE i.user_id = $1""",
            user.user_id,
        )
    finally:
        await connection.close()
    return [row["id"] for row in rows if row["analyses"] != 1 or row["embeddings"] != 1]


async def _start_standbys(
    stack: LocalStack,
) -> dict[str, tuple[str, asyncio.subprocess.Process]]:
    """A second process of each worker on the same queues (as a second ECS task would be)."""
    started: dict[str, tuple[str, asyncio.subprocess.Process]] = {}
    for worker in WORKERS:
        port = free_port()
        env = {**stack.processes[worker].spec.env, f"{worker.upper()}_PORT": str(port)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"collections_{worker}",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        started[worker] = (url, process)
        await wait_for_http(f"{url}/health", f"the standby {worker}", 180, ready=lambda s: s == 200)
    return started


def run() -> dict[str, Any]:
    """Start a stack, kill each worker ``KILLS`` times while it holds an item, print the table."""
    visibility = _visibility_env()

    async def main(folder: Path) -> dict[str, Any]:
        with FakeVoyage() as voyage:
            env = {"INGEST_STUCK_AFTER_SECONDS": "300", **visibility}
            stack = LocalStack(stack_config(folder / "state", **env))
            try:
                print(f"stack up in {await stack.start():.1f} s", flush=True)
                await restart_service(
                    stack,
                    "embedder",
                    EMBEDDER_VOYAGE_API_KEY=voyage.api_key,
                    EMBEDDER_VOYAGE_BASE_URL=voyage.url,
                )
                standbys = await _start_standbys(stack) if STANDBY else {}
                async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as api:
                    user = await sign_up(api, f"recovery-{uuid.uuid4().hex[:8]}@example.com")
                    photos = [
                        path.read_bytes() for path in sorted((GOLDEN / "images").glob("*.jpg"))
                    ]
                    rig = Rig(stack, api, user, voyage, photos or [jpeg(640, 480)])
                    rig.standby = {worker: url for worker, (url, _) in standbys.items()}
                    await _run(rig)
                    duplicates = await _check_no_duplicates(stack, user)
            finally:
                for _, process in standbys.values():
                    process.terminate()
                    await process.wait()
                await stack.stop()
        summary = _report(rig, visibility)
        print(f"items with more than one analysis or embedding: {len(duplicates)}")
        summary["duplicates"] = len(duplicates)
        return summary

    with tempfile.TemporaryDirectory(prefix="collections-recovery-") as folder:
        return asyncio.run(main(Path(folder)))
