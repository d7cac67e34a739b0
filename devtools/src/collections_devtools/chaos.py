"""The chaos drain: uploads through the API while processes are killed, then lost/duplicate counts.

A Jepsen-style ``total-queue`` check on the local stack. Uploads go through ``POST /items`` at a
steady rate, each with its own ``Idempotency-Key`` so a retry after a 5xx or a dropped connection
can never create a second item. Meanwhile a driver SIGKILLs the ingest, analyzer and embedder
process groups at random moments (the stack's supervisor restarts them), kills PostgreSQL once
(the supervisor restarts it and it runs crash recovery) and restarts the AWS emulator once through
its own snapshot and restore (SIGTERM: it saves, exits, is restarted, reloads and re-provisions).

Then it waits for every accepted upload to reach a terminal status and for the queues to empty,
and checks, from the database (as the owner) and the bucket listing:

- **lost**: an accepted upload (202) that is missing, not terminal, ``failed`` without a reason,
  or ``searchable`` without its derivatives;
- **duplicates**: a second item for one upload or for one set of bytes, more than one analysis
  version or embedding per item, an object in the bucket that no item explains.

Used by ``tests/test_chaos.py`` (CI) and ``make chaos`` (``python -m bench.chaos``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from collections_devtools.local.readiness import wait_for_http
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.images import jpeg
from collections_devtools.testing.outages import queue_depths, wait_for_database
from collections_shared.aws import AwsClients

WORKERS = ("ingest", "analyzer", "embedder")
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

# The default visibility timeouts (15 s, kept alive by heartbeats) bring a killed worker's messages
# back within seconds; the reconciler looks every few seconds. Uploads are not rate limited here:
# the driver is one user sending a few hundred files.
CHAOS_ENV = {
    "INGEST_RECONCILE_INTERVAL_SECONDS": "5",
    "INGEST_STUCK_AFTER_SECONDS": "30",
    "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
}


@dataclass(frozen=True)
class ChaosPlan:
    """How many uploads, how fast, and what gets killed."""

    uploads: int = 300
    rate_per_second: float = 2.0
    kills_per_worker: int = 3
    postgres_restarts: int = 1
    emulator_restarts: int = 1
    emulator_signal: signal.Signals = signal.SIGTERM
    """SIGTERM restarts the emulator through its snapshot; SIGKILL loses its last 2 s."""
    seed: int = 6
    give_up_after: float = 180.0
    """Seconds one upload keeps retrying before it counts as not accepted."""
    drain_timeout: float = 420.0


@dataclass
class UploadOutcome:
    index: int
    item_id: str | None = None
    attempts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    accepted_at: float | None = None


@dataclass
class ChaosReport:
    """The figures of one run."""

    uploads: int = 0
    accepted: int = 0
    not_accepted: int = 0
    retries: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)
    kills: Counter[str] = field(default_factory=Counter)
    restarts: dict[str, int] = field(default_factory=dict)
    failed_starts: Counter[str] = field(default_factory=Counter)
    """Restarts that exited at once (e.g. the port still held), each retried with backoff."""
    outages: dict[str, float] = field(default_factory=dict)
    """Seconds from the kill until PostgreSQL / the emulator answered again."""
    searchable: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    redriven_items: int = 0
    redrives: int = 0
    """Re-drive events the reconciler published (each one a duplicate delivery to absorb)."""
    revived: list[str] = field(default_factory=list)
    """Items seen ``failed`` during the drain that ended otherwise: a terminal status undone."""
    dead_letters: dict[str, int] = field(default_factory=dict)
    upload_seconds: float = 0.0
    drain_seconds: float = 0.0
    settle_seconds: float = 0.0
    to_terminal: list[float] = field(default_factory=list)
    """Seconds from each upload's 202 until it was first seen terminal (1 s resolution)."""

    def percentile(self, fraction: float) -> float:
        """A percentile of :attr:`to_terminal` (0 when nothing was measured)."""
        ordered = sorted(self.to_terminal)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    def lines(self) -> list[str]:
        """The figures, one per line, for people."""
        kills = ", ".join(f"{name} {count}" for name, count in sorted(self.kills.items()))
        restarts = ", ".join(f"{name} {count}" for name, count in sorted(self.restarts.items()))
        outages = ", ".join(f"{name} {secs:.1f} s" for name, secs in sorted(self.outages.items()))
        reasons = ", ".join(f"{name} {n}" for name, n in self.retry_reasons.most_common()) or "-"
        failed = ", ".join(f"{code} {n}" for code, n in self.failed.most_common()) or "none"
        return [
            f"uploads        {self.uploads} sent, {self.accepted} accepted (202), "
            f"{self.not_accepted} never accepted",
            f"client retries {self.retries} ({reasons})",
            f"kills          {kills}",
            f"restarts       {restarts}"
            + (f" (failed starts: {dict(self.failed_starts)})" if self.failed_starts else ""),
            f"outages        {outages or '-'}",
            f"terminal       {self.searchable} searchable, failed: {failed}",
            f"lost           {len(self.lost)}",
            f"duplicates     {len(self.duplicates)}",
            f"re-driven      {self.redriven_items} items by the reconciler "
            f"({self.redrives} re-drive events)",
            f"revived        {len(self.revived)} items seen failed that did not end failed",
            f"dead letters   {self.dead_letters}",
            f"upload phase   {self.upload_seconds:.1f} s",
            f"drain          {self.drain_seconds:.1f} s after the last upload was answered",
            f"202 → terminal p50 {self.percentile(0.5):.1f} s, p95 {self.percentile(0.95):.1f} s, "
            f"max {self.percentile(1.0):.1f} s",
            f"settle         {self.settle_seconds:.1f} s more until every queue was empty",
        ]


def chaos_photos(count: int) -> list[bytes]:
    """``count`` distinct JPEGs: golden photos with bytes appended after EOI, else generated."""
    folder = GOLDEN / "images"
    files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if files:
        blobs = [path.read_bytes() for path in files]
        return [
            blobs[index % len(blobs)] + b"chaos" + index.to_bytes(4, "big")
            for index in range(count)
        ]
    return [jpeg(480, 360, seed=index) for index in range(count)]


class ChaosRun:
    """One chaos drain against a running stack (started with :data:`CHAOS_ENV`)."""

    def __init__(
        self, stack: LocalStack, plan: ChaosPlan, say: Callable[[str], None] = print
    ) -> None:
        self.stack = stack
        self.plan = plan
        self.say = say
        self.report = ChaosReport(uploads=plan.uploads)
        self._random = random.Random(plan.seed)  # noqa: S311 - a reproducible schedule
        self._outcomes: list[UploadOutcome] = []
        self._started = 0.0
        self._seen_failed: set[str] = set()
        self._terminal_at: dict[str, float] = {}
        self._killed: dict[str, int | None] = {}

    async def run(self) -> ChaosReport:
        """Upload under faults, drain, settle, check; returns the figures."""
        photos = chaos_photos(self.plan.uploads)
        restarts_before = {name: process.restarts for name, process in self._processes()}
        stack_log = self.stack.console.log_dir / "stack.log"
        log_lines_before = len(stack_log.read_text().splitlines()) if stack_log.exists() else 0
        async with httpx.AsyncClient(base_url=self.stack.url("gateway"), timeout=30) as api:
            user = await sign_up(api, f"chaos-{uuid.uuid4().hex[:10]}@example.com")
            self._started = time.monotonic()
            stop_watching = asyncio.Event()
            watcher = asyncio.create_task(self._watch(user, stop_watching))
            faults = asyncio.create_task(self._faults())
            try:
                await self._upload_all(api, user, photos)
                self.report.upload_seconds = time.monotonic() - self._started
                await faults
                uploads_done = time.monotonic()
                accepted = [o.item_id for o in self._outcomes if o.item_id is not None]
                await self._drain(accepted)
                self.report.drain_seconds = time.monotonic() - uploads_done
                await asyncio.sleep(1.5)  # one more look by the watcher
            finally:
                faults.cancel()
                stop_watching.set()
                await watcher
        self.report.to_terminal = [
            self._terminal_at[o.item_id] - o.accepted_at
            for o in self._outcomes
            if o.item_id in self._terminal_at and o.accepted_at is not None
        ]
        settle_started = time.monotonic()
        await self._settle()
        self.report.settle_seconds = time.monotonic() - settle_started
        self.report.restarts = {
            name: process.restarts - restarts_before.get(name, 0)
            for name, process in self._processes()
        }
        self._count_failed_starts(stack_log.read_text().splitlines()[log_lines_before:])
        await self._check(user, accepted)
        return self.report

    def _count_failed_starts(self, lines: list[str]) -> None:
        """Exits that were not our signals (SIGKILL -9, SIGTERM -15 or 0 after it)."""
        for line in lines:
            match = re.match(r"^(\w+) exited with code (-?\d+);", line)
            if match and int(match[2]) not in {-9, -15, 0}:
                self.report.failed_starts[match[1]] += 1

    def _processes(self) -> list[tuple[str, Any]]:
        names = (*WORKERS, "postgres", "aws")
        return [
            (name, self.stack.processes[name]) for name in names if name in self.stack.processes
        ]

    def _log(self, message: str) -> None:
        self.say(f"[{time.monotonic() - self._started:6.1f} s] {message}")

    # --- uploads ---------------------------------------------------------------------------

    async def _upload_all(self, api: httpx.AsyncClient, user: ApiUser, photos: list[bytes]) -> None:
        interval = 1 / self.plan.rate_per_second
        run_key = uuid.uuid4().hex[:8]
        tasks = []
        for index, data in enumerate(photos):
            outcome = UploadOutcome(index=index)
            self._outcomes.append(outcome)
            key = f"chaos-{run_key}-{index}"
            tasks.append(asyncio.create_task(self._upload(api, user, data, key, outcome)))
            await asyncio.sleep(max(0.0, self._started + (index + 1) * interval - time.monotonic()))
        await asyncio.gather(*tasks)
        self.report.accepted = sum(1 for o in self._outcomes if o.item_id is not None)
        self.report.not_accepted = self.plan.uploads - self.report.accepted
        for outcome in self._outcomes:
            self.report.retries += max(0, outcome.attempts - 1)
            self.report.retry_reasons.update(outcome.errors)

    async def _upload(
        self, api: httpx.AsyncClient, user: ApiUser, data: bytes, key: str, outcome: UploadOutcome
    ) -> None:
        """POST until 202 (or a 4xx, or giving up), the same Idempotency-Key every time."""
        deadline = time.monotonic() + self.plan.give_up_after
        delay = 0.5
        while time.monotonic() < deadline:
            outcome.attempts += 1
            wait = delay
            try:
                response = await api.post(
                    "/items",
                    files={"file": (f"chaos-{outcome.index}.jpg", data, "image/jpeg")},
                    headers={**user.headers, "Idempotency-Key": key},
                )
            except httpx.HTTPError as error:
                outcome.errors[type(error).__name__] += 1
            else:
                if response.status_code == 202:
                    outcome.item_id = str(response.json()["id"])
                    outcome.accepted_at = time.monotonic()
                    return
                if response.status_code not in _RETRYABLE_STATUSES:
                    outcome.errors[f"http_{response.status_code}"] += 1
                    self._log(f"upload {outcome.index} refused: {response.text[:200]}")
                    return
                outcome.errors[f"http_{response.status_code}"] += 1
                with contextlib.suppress(ValueError):
                    wait = max(wait, float(response.headers.get("retry-after", "0")))
            await asyncio.sleep(min(wait, 5.0))
            delay = min(delay * 2, 5.0)

    # --- faults ----------------------------------------------------------------------------

    def _schedule(self) -> list[tuple[float, str]]:
        """(seconds after the start, process) for every fault, in time order."""
        window = self.plan.uploads / self.plan.rate_per_second
        events: list[tuple[float, str]] = []
        for worker in WORKERS:
            events += [
                (self._random.uniform(0.05, 0.9) * window, worker)
                for _ in range(self.plan.kills_per_worker)
            ]
        # The two infrastructure restarts are kept apart so each outage is measured on its own.
        events += [
            (self._random.uniform(0.25, 0.4) * window, "postgres")
            for _ in range(self.plan.postgres_restarts)
        ]
        events += [
            (self._random.uniform(0.6, 0.75) * window, "aws")
            for _ in range(self.plan.emulator_restarts)
        ]
        return sorted(events)

    async def _faults(self) -> None:
        for at, name in self._schedule():
            await asyncio.sleep(max(0.0, self._started + at - time.monotonic()))
            if name == "postgres":
                await self._restart_postgres()
            elif name == "aws":
                await self._restart_emulator()
            else:
                await self._kill(name, signal.SIGKILL)

    async def _kill(self, name: str, sig: signal.Signals) -> bool:
        """Signal the process group once it is running (it may still be restarting)."""
        process = self.stack.processes[name]
        deadline = time.monotonic() + 90
        # A signalled process keeps its pid until the supervisor notices the exit: wait for the
        # next one, so two kills in a row never hit the same process.
        while (
            process.process is None
            or process.process.returncode is not None
            or process.pid == self._killed.get(name)
        ):
            if time.monotonic() > deadline:
                self._log(f"{name} did not come back within 90 s; skipping a kill")
                return False
            await asyncio.sleep(0.2)
        pid = self._killed[name] = process.pid
        process.kill(sig)
        self.report.kills[name] += 1
        self._log(f"{sig.name} {name} (pid {pid})")
        return True

    async def _restart_postgres(self) -> None:
        killed = time.monotonic()
        if not await self._kill("postgres", signal.SIGKILL):
            return
        await asyncio.sleep(0.5)
        await wait_for_database(self.stack, within=120)
        self.report.outages["postgres"] = time.monotonic() - killed
        self._log(
            f"postgres accepts connections again after {self.report.outages['postgres']:.1f} s"
        )

    async def _restart_emulator(self) -> None:
        killed = time.monotonic()
        if not await self._kill("aws", self.plan.emulator_signal):
            return
        await asyncio.sleep(0.5)
        await wait_for_http(f"{self.stack.config.aws_endpoint}/moto-api/", "the emulator", 60)
        self.report.outages["aws"] = time.monotonic() - killed
        self._log(f"the emulator answers again after {self.report.outages['aws']:.1f} s")

    # --- drain and checks ------------------------------------------------------------------

    async def _owner(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.stack.owner_database_url(), timeout=5)

    async def _watch(self, user: ApiUser, stop: asyncio.Event) -> None:
        """Once a second (PostgreSQL restarts included): when each item is first terminal, and
        every item ever seen ``failed``."""
        while not stop.is_set():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                connection = await self._owner()
                try:
                    rows = await connection.fetch(
                        """SELECT id::text AS id, status FROM items
                            WHERE user_id = $1 AND status IN ('searchable', 'failed')""",
                        user.user_id,
                    )
                finally:
                    await connection.close()
                now = time.monotonic()
                for row in rows:
                    self._terminal_at.setdefault(row["id"], now)
                self._seen_failed.update(row["id"] for row in rows if row["status"] == "failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1)

    async def _drain(self, accepted: list[str]) -> None:
        ids = [uuid.UUID(item_id) for item_id in accepted]
        deadline = time.monotonic() + self.plan.drain_timeout
        last = ""
        while True:
            connection = await self._owner()
            try:
                rows = await connection.fetch(
                    """SELECT status, count(*) AS n FROM items
                        WHERE id = ANY($1::uuid[]) GROUP BY status ORDER BY status""",
                    ids,
                )
            finally:
                await connection.close()
            counts = {row["status"]: row["n"] for row in rows}
            pending = len(ids) - counts.get("searchable", 0) - counts.get("failed", 0)
            summary = ", ".join(f"{status} {n}" for status, n in counts.items())
            if summary != last:
                self._log(f"drain: {summary}")
                last = summary
            if pending == 0 or time.monotonic() > deadline:
                return
            await asyncio.sleep(1)

    async def _settle(self, within: float = 120) -> None:
        """Wait until no message is left anywhere (late redeliveries must change nothing)."""
        deadline = time.monotonic() + within
        while any((depths := await queue_depths(self.stack)).values()):
            if time.monotonic() > deadline:
                self._log(f"queues not empty after {within:.0f} s: {depths}")
                break
            await asyncio.sleep(1)
        self.report.dead_letters = await queue_depths(self.stack, dead_letters=True)

    async def _check(self, user: ApiUser, accepted: list[str]) -> None:
        connection = await self._owner()
        try:
            rows = await connection.fetch(
                """SELECT i.id::text AS id, i.status, i.failure_code, i.failure_message,
                          i.idempotency_key, i.sha256, i.original_key, i.derivative_keys,
                          i.redrive_count,
                          (SELECT count(*) FROM analyses a WHERE a.item_id = i.id) AS analyses,
                          (SELECT max(version) FROM analyses a WHERE a.item_id = i.id)
                              AS max_version,
                          (SELECT count(*) FROM embeddings e WHERE e.item_id = i.id)
                              AS embeddings
                     FROM items i WHERE i.user_id = $1""",
                user.user_id,
            )
        finally:
            await connection.close()
        items = {
            row["id"]: {**row, "derivative_keys": _json(row["derivative_keys"])} for row in rows
        }
        objects = await self._objects(user)
        self._check_items(items, accepted, objects)
        self._check_duplicates(items, accepted, objects)

    async def _objects(self, user: ApiUser) -> set[str]:
        aws = AwsClients(region="us-east-1", endpoint_url=self.stack.config.aws_endpoint)
        keys: set[str] = set()
        async with aws.client("s3") as s3:
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(
                Bucket="collections-images", Prefix=f"{user.user_id}/"
            ):
                keys.update(entry["Key"] for entry in page.get("Contents", []))
        return keys

    def _check_items(
        self, items: dict[str, dict[str, Any]], accepted: list[str], objects: set[str]
    ) -> None:
        report = self.report
        for item_id in dict.fromkeys(accepted):
            item = items.get(item_id)
            if item is None:
                report.lost.append(f"{item_id}: accepted but no row")
                continue
            report.redriven_items += 1 if item["redrive_count"] else 0
            report.redrives += item["redrive_count"]
            if item_id in self._seen_failed and item["status"] != "failed":
                report.revived.append(f"{item_id}: seen failed, ended {item['status']}")
            if item["status"] == "searchable":
                report.searchable += 1
                wanted = {item["original_key"], *item["derivative_keys"].values()}
                missing = wanted - objects
                if len(item["derivative_keys"]) != 2 or missing:
                    report.lost.append(f"{item_id}: searchable, objects missing {sorted(missing)}")
                if item["analyses"] == 0 or item["embeddings"] == 0:
                    report.lost.append(f"{item_id}: searchable without analysis or embedding")
            elif item["status"] == "failed":
                report.failed[item["failure_code"] or "no code"] += 1
                if not item["failure_code"] or not item["failure_message"]:
                    report.lost.append(f"{item_id}: failed without a reason")
            else:
                report.lost.append(f"{item_id}: still {item['status']}")

    def _check_duplicates(
        self, items: dict[str, dict[str, Any]], accepted: list[str], objects: set[str]
    ) -> None:
        report = self.report
        by_upload = Counter(outcome.item_id for outcome in self._outcomes if outcome.item_id)
        report.duplicates += [
            f"{item}: returned for {n} uploads" for item, n in by_upload.items() if n > 1
        ]
        extra_items = set(items) - set(accepted)
        report.duplicates += [
            f"{item_id}: an item nobody was told about" for item_id in extra_items
        ]
        hashes = Counter(item["sha256"] for item in items.values() if item["sha256"])
        report.duplicates += [
            f"sha256 {digest[:12]}: {n} items" for digest, n in hashes.items() if n > 1
        ]
        keys = Counter(
            item["idempotency_key"] for item in items.values() if item["idempotency_key"]
        )
        report.duplicates += [f"key {key}: {n} items" for key, n in keys.items() if n > 1]
        explained: set[str] = set()
        for item_id, item in items.items():
            if item["analyses"] > 1 or (item["max_version"] or 1) > 1:
                report.duplicates.append(f"{item_id}: {item['analyses']} analysis versions")
            if item["embeddings"] > 1:
                report.duplicates.append(f"{item_id}: {item['embeddings']} embeddings")
            explained.add(item["original_key"])
            explained.update(item["derivative_keys"].values())
        report.duplicates += [f"object {key}: no item explains it" for key in objects - explained]


def _json(value: Any) -> dict[str, str]:
    """A jsonb column read without the services' codec arrives as text."""
    if isinstance(value, str):
        decoded: dict[str, str] = json.loads(value)
        return decoded
    return dict(value or {})
