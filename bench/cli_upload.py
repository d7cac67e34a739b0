"""``collections upload --wait`` of 200 photos with ``--concurrency 1`` against ``4``.

Starts the whole local stack (local providers), signs up one fresh user per run, writes 200
distinct photos (golden photos with a varying tail when present, else generated JPEGs) to a
folder and runs the real CLI as a user would. Per run: files/s until every upload was answered
(the upload phase) and seconds until every file was searchable (upload + pipeline). The two runs
are each other's baseline; the gateway's per-user rate limit is raised for the run so it is the
CLI and the pipeline that are measured, not the limiter.

Run ``python -m bench cli_upload``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.pipeline import _photos
from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import PASSWORD, sign_up
from collections_devtools.testing.stack import stack_config

FILES = 200
CONCURRENCIES = (1, 4)


async def _run_cli(api: str, config: Path, email: str, *args: str) -> tuple[int, str, float]:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "collections_cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={
            **os.environ,
            "COLLECTIONS_API": api,
            "COLLECTIONS_CONFIG_DIR": str(config),
            "COLLECTIONS_EMAIL": email,
            "COLLECTIONS_PASSWORD": PASSWORD,
        },
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode(), time.perf_counter() - started


async def _one(stack: LocalStack, folder: Path, concurrency: int) -> dict[str, Any]:
    api = stack.url("gateway")
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:
        user = await sign_up(client, f"bench-cli-{uuid.uuid4().hex[:8]}@example.com")
    config = folder.parent / f"config-{concurrency}"
    await _run_cli(api, config, user.email, "login")
    code, out, upload_s = await _run_cli(
        api, config, user.email, "upload", str(folder), "--concurrency", str(concurrency), "--json"
    )
    report = json.loads(out)
    code_wait, out_wait, wait_s = await _run_cli(
        api, config, user.email, "upload", str(folder), "--wait", "--json"
    )
    waited = json.loads(out_wait)
    return {
        "concurrency": concurrency,
        "uploaded": report["uploaded"],
        "upload_s": round(upload_s, 1),
        "files_per_s": round(report["uploaded"] / upload_s, 2),
        "searchable": waited["searchable"],
        "failed": waited["failed"],
        "until_searchable_s": round(upload_s + wait_s, 1),
        "exit_codes": [code, code_wait],
    }


def run() -> dict[str, Any]:
    """Start a stack, upload the same folder at each concurrency (fresh users), print a table."""

    async def main() -> list[dict[str, Any]]:
        with tempfile.TemporaryDirectory(prefix="collections-bench-cli-") as root:
            folder = Path(root) / "photos"
            folder.mkdir()
            for index, data in enumerate(_photos(FILES)):
                (folder / f"photo-{index:03d}.jpg").write_bytes(data)
            stack = LocalStack(
                stack_config(Path(root) / "state", GATEWAY_RATE_LIMIT_PER_MINUTE="100000")
            )
            try:
                await stack.start()
                return [await _one(stack, folder, concurrency) for concurrency in CONCURRENCIES]
            finally:
                await stack.stop()

    rows = asyncio.run(main())
    print("| concurrency | files/s | upload s | until searchable s | searchable | failed |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        searchable = f"{row['searchable']}/{row['uploaded']}"
        print(
            f"| {row['concurrency']} | {row['files_per_s']} | {row['upload_s']} | "
            f"{row['until_searchable_s']} | {searchable} | {row['failed']} |"
        )
    return {f"concurrency_{row['concurrency']}": row for row in rows}
