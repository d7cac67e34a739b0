"""Waiting for items to finish, and reading a service's memory, in tests against a running stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from collections_devtools.local.stack import LocalStack
from collections_devtools.testing.api import ApiUser

TERMINAL = frozenset({"searchable", "failed"})


async def wait_terminal(
    api: Any, user: ApiUser, ids: list[str], within: float = 180
) -> dict[str, dict[str, Any]]:
    """Poll ``GET /items`` until every item is searchable or failed; their final documents.

    One listing per round keeps the caller well under the per-user rate limit (a 429 is waited
    out). Each document gets ``_seconds``: how long after the call it was first seen terminal.
    """
    started = time.monotonic()
    deadline = started + within
    seen: dict[str, float] = {}
    statuses: dict[str, str] = {}
    while True:
        statuses = await _statuses(api, user)
        for item_id in ids:
            if statuses.get(item_id) in TERMINAL:
                seen.setdefault(item_id, time.monotonic() - started)
        if all(item_id in seen for item_id in ids):
            break
        if time.monotonic() > deadline:
            waiting = {item_id: statuses.get(item_id) for item_id in ids if item_id not in seen}
            msg = f"not terminal after {within:.0f} s: {waiting}"
            raise AssertionError(msg)
        await asyncio.sleep(0.5)
    return {
        item_id: {**await _get(api, user, f"/items/{item_id}"), "_seconds": seen[item_id]}
        for item_id in dict.fromkeys(ids)
    }


async def _statuses(api: Any, user: ApiUser) -> dict[str, str]:
    """Every item's status, from the listing (all pages)."""
    statuses: dict[str, str] = {}
    cursor: str | None = None
    while True:
        page = await _get(api, user, "/items", limit=100, **({"cursor": cursor} if cursor else {}))
        statuses.update({item["id"]: item["status"] for item in page["items"]})
        cursor = page.get("next_cursor")
        if not cursor:
            return statuses


async def _get(api: Any, user: ApiUser, path: str, **params: Any) -> dict[str, Any]:
    """A JSON GET that waits out the per-user rate limit."""
    while True:
        response = await api.get(path, params=params, headers=user.headers)
        if response.status_code != 429:
            assert response.status_code == 200, response.text
            document: dict[str, Any] = response.json()
            return document
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


def peak_rss_bytes(stack: LocalStack, service: str) -> int:
    """The peak resident set (``VmHWM``) of a service's process since it started."""
    pid = stack.processes[service].pid
    assert pid is not None, f"{service} is not running"
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    msg = f"no VmHWM in /proc/{pid}/status"
    raise AssertionError(msg)


def work_seconds(stack: LocalStack, service: str) -> dict[str, float]:
    """The longest ``work_processed`` duration per item in a service's log, in seconds."""
    longest: dict[str, float] = {}
    for record in work_log(stack, service):
        item_id = record.get("item_id")
        if item_id:
            with contextlib.suppress(ValueError):
                seconds = float(record["duration_ms"]) / 1000
                longest[item_id] = max(seconds, longest.get(item_id, 0.0))
    return longest


def work_log(
    stack: LocalStack, service: str, events: tuple[str, ...] = ("work_processed",)
) -> list[dict[str, Any]]:
    """The lines of ``events`` a service logged, oldest first.

    ``work_processed`` is the one line per message handled (``done``, ``retry`` or ``failed``);
    ``work_crashed`` is written instead when the work raised something unexpected (it is retried).
    """
    records: list[dict[str, Any]] = []
    log = stack.console.log_dir / f"{service}.log"
    for line in log.read_text().splitlines():
        if any(f'"{event}"' in line for event in events):
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("event") in events:
                    records.append(record)
    return records


def work_records(stack: LocalStack, service: str, item_id: str) -> list[dict[str, Any]]:
    """The ``work_processed`` lines a service logged for one item, oldest first."""
    return [record for record in work_log(stack, service) if record.get("item_id") == item_id]
