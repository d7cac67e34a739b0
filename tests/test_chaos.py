"""The chaos drain (Jepsen's total-queue check): nothing accepted is lost, nothing is done twice.

300 uploads through the API at 2 per second, each with its own Idempotency-Key, while the ingest,
analyzer and embedder process groups are SIGKILLed 3 times each at random moments, PostgreSQL is
SIGKILLed once (crash recovery) and the AWS emulator is restarted once through its snapshot. The
stack's supervisor restarts everything. Then every accepted upload must be ``searchable`` or
``failed`` with a reason, and no item, analysis version, embedding or object may exist twice.
``make chaos`` runs the same drain and prints the same figures (collections_devtools.chaos).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from collections_devtools.chaos import CHAOS_ENV, WORKERS, ChaosPlan, ChaosReport, ChaosRun
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.fixtures import free_port
from collections_devtools.testing.outages import restartable_home
from collections_devtools.testing.stack import running_stack
from collections_shared.aws import AwsClients

# The drain runs inside the first test that asks for the report, whichever that is.
pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(900)]

PLAN = ChaosPlan(uploads=300, rate_per_second=2.0, kills_per_worker=3, seed=6)
DRAIN_BOUND_SECONDS = 300.0
"""Measured 1-110 s with the faults, depending on the machine's load (docs/reliability.md)."""


@pytest.fixture(scope="module", name="chaos_stack")
async def fx_chaos_stack() -> AsyncIterator[LocalStack]:
    """A stack of its own (default 15 s visibility timeouts), with a reconciler that looks often."""
    with restartable_home("chaos") as home:
        async with running_stack(home, **CHAOS_ENV) as running:
            yield running


@pytest.fixture(scope="module", name="report")
async def fx_report(chaos_stack: LocalStack, pytestconfig: pytest.Config) -> ChaosReport:
    """One chaos drain; its figures go to the terminal (the CI log) even when the tests pass."""
    report = await ChaosRun(chaos_stack, PLAN, say=_say).run()
    with pytestconfig.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        _say("\n".join(["", "=== chaos drain ===", *report.lines()]))
    return report


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - progress (shown on failure) and the figures


async def test_every_accepted_upload_ends_searchable_or_failed_with_a_reason(
    report: ChaosReport,
) -> None:
    """Lost is 0: every 202 ends searchable (with its objects) or failed with a code and message."""
    assert [] == report.lost
    assert report.accepted == report.searchable + sum(report.failed.values())


async def test_nothing_exists_twice(report: ChaosReport) -> None:
    """Duplicates are 0: one item per upload and per bytes, one analysis and embedding each."""
    assert [] == report.duplicates


async def test_a_failed_item_stays_failed(report: ChaosReport) -> None:
    """No item seen ``failed`` at any moment ended otherwise: only a stuck item is failed."""
    assert [] == report.revived


async def test_every_upload_was_accepted_after_client_retries(report: ChaosReport) -> None:
    """Uploads refused while a dependency restarted (503) were accepted on retry, none dropped."""
    assert PLAN.uploads == report.accepted


async def test_valid_photos_do_not_fail_because_of_the_faults(report: ChaosReport) -> None:
    """Every photo is valid, so none ends failed: faults delay work, they never fail it."""
    assert {} == dict(report.failed)


async def test_every_planned_fault_happened_and_was_recovered(report: ChaosReport) -> None:
    """3 kills per worker, PostgreSQL and the emulator once each; the supervisor restarted all."""
    expected = dict.fromkeys(WORKERS, PLAN.kills_per_worker) | {"postgres": 1, "aws": 1}
    assert expected == dict(report.kills)
    # One restart per kill, plus one per start that failed and was retried (a port still held).
    assert expected == {
        name: restarts - report.failed_starts[name] for name, restarts in report.restarts.items()
    }


async def test_the_drain_finishes_in_bounded_time(report: ChaosReport) -> None:
    """The last accepted upload is terminal within 5 minutes of the upload phase ending."""
    assert report.drain_seconds < DRAIN_BOUND_SECONDS
    assert dict.fromkeys(report.dead_letters, 0) == report.dead_letters


async def _emulator(port: int, state: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "collections_devtools.local.emulator",
        "--port",
        str(port),
        "--state",
        str(state),
        stdout=asyncio.subprocess.DEVNULL,
    )
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{port}/moto-api/")).status_code < 500:
                    return process
            await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("the emulator did not start")


async def _write_until_refused(s3: Any, writer: int, acknowledged: list[str]) -> None:
    """PUT small objects one after another; keep the keys the emulator said 200 to."""
    for index in range(100_000):
        key = f"w{writer}/{index}"
        try:
            await s3.put_object(Bucket="chaos", Key=key, Body=b"x")
        except Exception:  # noqa: BLE001 - any failure means "not acknowledged"
            return
        acknowledged.append(key)


async def test_emulator_restart_keeps_every_acknowledged_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every PUT the emulator answered 200 before its SIGTERM is there after it restarts."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    port, state = free_port(), tmp_path / "aws.pickle"
    aws = AwsClients(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
    emulator = await _emulator(port, state)
    acknowledged: list[str] = []
    try:
        async with aws.client("s3", retries={"max_attempts": 1}) as s3:
            await s3.create_bucket(Bucket="chaos")
            writers = [
                asyncio.create_task(_write_until_refused(s3, n, acknowledged)) for n in range(8)
            ]
            await asyncio.sleep(3)  # a few autosaves while writes keep coming
            emulator.send_signal(signal.SIGTERM)
            await asyncio.wait_for(asyncio.gather(*writers), timeout=60)
            await emulator.wait()
    finally:
        if emulator.returncode is None:
            emulator.kill()
    emulator = await _emulator(port, state)
    try:
        async with aws.client("s3") as s3:
            paginator = s3.get_paginator("list_objects_v2")
            stored = {
                entry["Key"]
                async for page in paginator.paginate(Bucket="chaos")
                for entry in page.get("Contents", [])
            }
    finally:
        emulator.terminate()
        await emulator.wait()
    assert len(acknowledged) > 100
    assert [] == sorted(set(acknowledged) - stored)
