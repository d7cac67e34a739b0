"""``collections import-local``: a collections-local library into the account, idempotently.

Each item is uploaded with its latest analysis (``analysis``: the seeds' JSON as it is; the
server maps it onto its schema field by field and keeps the original) and where it comes from
(``analysis_source``: the source ids, provider, model and times). The analyzer is skipped for it;
validation, derivatives and embedding run as for any upload.

Importing the same library again adds nothing: files whose bytes the account already has are
skipped (``POST /items/lookup``), and each upload's ``Idempotency-Key`` is derived from the
source item id. One item's problem is reported and never stops the rest. Every run waits until
ingest has validated what it uploaded: an image it refuses (undecodable) is deleted again, so
nothing half-imported stays behind. ``--wait`` follows the rest until they are searchable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from collections_cli.client import ApiClient
from collections_cli.errors import CliError
from collections_cli.files import sha256_of
from collections_cli.follow import PAST_INGEST, Follower, Outcome
from collections_cli.local_library import SourceItem, read_library
from collections_cli.upload import LOOKUP_BATCH


def idempotency_key(source_id: str) -> str:
    return "collections-local-" + hashlib.sha256(source_id.encode()).hexdigest()[:40]


@dataclass
class Entry:
    source_id: str
    outcome: str = "pending"
    """imported, already (in the account), invalid (refused before upload or by the API),
    refused (by ingest: the image cannot be decoded; the item was deleted again)."""
    item_id: str | None = None
    status: str | None = None
    reason: str | None = None
    has_analysis: bool = False


@dataclass
class ImportReport:
    entries: list[Entry] = field(default_factory=list)
    dry_run: bool = False

    def count(self, *outcomes: str) -> int:
        return sum(1 for entry in self.entries if entry.outcome in outcomes)

    def problems(self) -> list[Entry]:
        return [e for e in self.entries if e.outcome in ("invalid", "refused")]

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "items": len(self.entries),
            "imported": self.count("imported"),
            "already": self.count("already"),
            "problems": len(self.problems()),
            "entries": [vars(entry) for entry in self.entries],
        }


class LocalImporter:
    def __init__(self, client: ApiClient, console: Console, *, concurrency: int) -> None:
        self.client = client
        self.console = console
        self.concurrency = concurrency

    async def run(self, folder: Path, *, dry_run: bool, wait: bool, within: float) -> ImportReport:
        items, problems = await asyncio.to_thread(read_library, folder)
        report = ImportReport(dry_run=dry_run)
        report.entries += [Entry(p.source_id, "invalid", reason=p.reason) for p in problems]
        entries = {
            item.source_id: Entry(item.source_id, has_analysis=item.analysis is not None)
            for item in items
        }
        report.entries += entries.values()
        hashes = {item.source_id: await asyncio.to_thread(sha256_of, item.path) for item in items}
        if self.client.session is not None:
            await self._mark_known(items, hashes, entries)
        elif not dry_run:
            self.client.require_session()
        if dry_run:
            return report
        todo = [item for item in items if entries[item.source_id].outcome == "pending"]
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: SourceItem) -> None:
            async with gate:
                await self._upload(item, entries[item.source_id])

        await asyncio.gather(*(one(item) for item in todo))
        await self._drop_refused(report, within)
        if wait:
            await self._wait(report, within)
        return report

    async def _mark_known(
        self, items: list[SourceItem], hashes: dict[str, str], entries: dict[str, Entry]
    ) -> None:
        wanted = sorted(set(hashes.values()))
        known: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), LOOKUP_BATCH):
            body = await self.client.json(
                "POST", "/items/lookup", json={"sha256": wanted[start : start + LOOKUP_BATCH]}
            )
            known.update({entry["sha256"]: entry for entry in body.get("found", [])})
        first: set[str] = set()
        for item in items:
            entry, digest = entries[item.source_id], hashes[item.source_id]
            if digest in known:
                entry.outcome, entry.item_id = "already", str(known[digest]["item_id"])
                entry.status = str(known[digest]["status"])
            elif digest in first:
                entry.outcome, entry.reason = "already", "the same image as another source item"
            first.add(digest)

    async def _upload(self, item: SourceItem, entry: Entry) -> None:
        data: dict[str, str] = {}
        if item.analysis is not None:
            data["analysis"] = json.dumps(item.analysis, ensure_ascii=False)
            data["analysis_source"] = json.dumps(item.facts)
        try:
            content = await asyncio.to_thread(item.path.read_bytes)
            body = await self.client.json(
                "POST",
                "/items",
                files={"file": (item.filename, content, item.mime)},
                data=data,
                headers={"idempotency-key": idempotency_key(item.source_id)},
            )
        except CliError as error:
            entry.outcome, entry.reason = "invalid", error.message
            return
        except OSError as error:
            entry.outcome, entry.reason = "invalid", f"unreadable image: {error.strerror or error}"
            return
        entry.outcome, entry.item_id, entry.status = (
            "imported",
            str(body["id"]),
            str(body["status"]),
        )

    async def _drop_refused(self, report: ImportReport, within: float) -> None:
        """Wait until ingest has looked at each new item; delete the ones it refused."""
        uploaded = {e.item_id: e for e in report.entries if e.item_id and e.outcome == "imported"}

        def done(item_id: str, outcome: Outcome) -> None:
            uploaded[item_id].status = outcome.status

        outcomes = await Follower(self.client, set(uploaded), done, until=PAST_INGEST).run(within)
        for item_id, outcome in outcomes.items():
            if outcome.status == "failed":
                await self.client.request("DELETE", f"/items/{item_id}")
                entry = uploaded[item_id]
                entry.outcome, entry.item_id = "refused", None
                entry.reason = f"refused by ingest ({outcome.code}: {outcome.message}); not kept"

    async def _wait(self, report: ImportReport, within: float) -> None:
        waiting = {
            e.item_id: e
            for e in report.entries
            if e.item_id and e.outcome in ("imported", "already")
        }
        pending = {i for i, e in waiting.items() if e.status not in ("searchable", "failed")}

        def done(item_id: str, outcome: Outcome) -> None:
            waiting[item_id].status = outcome.status
            if outcome.status == "failed":
                waiting[item_id].reason = f"failed: {outcome.code}: {outcome.message}"

        await Follower(self.client, pending, done).run(within)


def validation_table(console: Console, report: ImportReport, waited: bool) -> None:
    """Items, analyses and searchable items against the source, like the seeds' migration check."""
    total = len(report.entries)
    present = [e for e in report.entries if e.outcome in ("imported", "already")]
    with_analysis = [e for e in report.entries if e.has_analysis]
    table = Table("check", "result", box=None, pad_edge=False, title="import-local")
    verb = "would import" if report.dry_run else "items"
    if report.dry_run:
        table.add_row(
            verb, f"{report.count('pending')}/{total} (already there: {report.count('already')})"
        )
    else:
        table.add_row("items", f"{len(present)}/{total}")
        table.add_row(
            "analyses", f"{sum(1 for e in present if e.has_analysis)}/{len(with_analysis)}"
        )
        searchable = sum(1 for e in present if e.status == "searchable")
        table.add_row(
            "searchable",
            f"{searchable}/{total}" if waited else f"{searchable}/{total} (not waited for)",
        )
    console.print(table)
    for entry in report.problems():
        console.print(f"  {entry.source_id}: {entry.reason}", style="yellow", markup=False)
