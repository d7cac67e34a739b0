"""Following items through the pipeline until each is ``searchable`` or ``failed``.

The ``/events`` stream says when an item changes; a sweep of the newest items every few seconds
catches what changed before the stream was subscribed (or while it reconnected). Both feed one
table of outcomes, so nothing is missed and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from httpx_sse import EventSource, SSEError

from collections_cli.client import ApiClient
from collections_cli.errors import CliError

TERMINAL = frozenset({"searchable", "failed"})
SWEEP_SECONDS = 5.0
_MAX_SWEEP_PAGES = 20


@dataclass
class Outcome:
    status: str
    code: str | None = None
    message: str | None = None


class Follower:
    """Collects the terminal outcome of each item id in ``pending``."""

    def __init__(
        self, client: ApiClient, pending: set[str], on_done: Callable[[str, Outcome], None]
    ) -> None:
        self.client = client
        self.pending = set(pending)
        self.outcomes: dict[str, Outcome] = {}
        self._on_done = on_done
        self._finished = asyncio.Event()

    def _record(self, item_id: str, outcome: Outcome) -> None:
        if item_id in self.pending and item_id not in self.outcomes and outcome.status in TERMINAL:
            self.outcomes[item_id] = outcome
            self._on_done(item_id, outcome)
            if len(self.outcomes) == len(self.pending):
                self._finished.set()

    async def run(self, within: float) -> dict[str, Outcome]:
        if not self.pending:
            return {}
        tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._sweep())]
        try:
            await asyncio.wait_for(self._finished.wait(), within)
        except TimeoutError:
            waiting = len(self.pending) - len(self.outcomes)
            raise CliError(
                f"gave up after {within:.0f} s: {waiting} item(s) still in the pipeline"
            ) from None
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, CliError):
                    await task
        await self._explain_failures()
        return self.outcomes

    async def _listen(self) -> None:
        while not self._finished.is_set():
            try:
                async with self.client.stream("GET", "/events", timeout=None) as response:
                    async for event in EventSource(response).aiter_sse():
                        if event.event != "status":
                            continue
                        change = json.loads(event.data)
                        self._record(
                            str(change.get("item_id")),
                            Outcome(str(change.get("status")), change.get("failure_code")),
                        )
            except (SSEError, ValueError, CliError):
                pass  # the sweep keeps going; reconnect after a pause
            await asyncio.sleep(2.0)

    async def _sweep(self) -> None:
        while not self._finished.is_set():
            await self._sweep_once()
            await asyncio.sleep(SWEEP_SECONDS)

    async def _sweep_once(self) -> None:
        """Read the newest items (this run's uploads are among them) until all are seen."""
        unseen = self.pending - set(self.outcomes)
        cursor: str | None = None
        started = time.monotonic()
        for _ in range(_MAX_SWEEP_PAGES):
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = await self.client.json("GET", "/items", params=params)
            for item in page.get("items", []):
                item_id = str(item.get("id"))
                if item_id in unseen:
                    unseen.discard(item_id)
                    failure = item.get("failure") or {}
                    self._record(
                        item_id,
                        Outcome(
                            str(item.get("status")), failure.get("code"), failure.get("message")
                        ),
                    )
            cursor = page.get("next_cursor")
            if not unseen or not cursor or time.monotonic() - started > SWEEP_SECONDS:
                return

    async def _explain_failures(self) -> None:
        for item_id, outcome in self.outcomes.items():
            if outcome.status == "failed" and outcome.message is None:
                with contextlib.suppress(CliError):
                    failure = (await self.client.json("GET", f"/items/{item_id}")).get(
                        "failure"
                    ) or {}
                    outcome.code = failure.get("code", outcome.code)
                    outcome.message = failure.get("message")
