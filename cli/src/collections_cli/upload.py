"""``collections upload``: hash first, skip what the account has, upload the rest concurrently.

Resumable by construction: the server is asked which hashes it already has, so a run started
again after an interruption uploads only what is missing. Each file's ``Idempotency-Key`` is its
hash, so a retried request cannot create a second item. One file's error never stops the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from collections_cli.client import ApiClient
from collections_cli.errors import CliError
from collections_cli.files import ImageFile, collect, sha256_of
from collections_cli.follow import Follower, Outcome

LOOKUP_BATCH = 1000


@dataclass
class FileResult:
    path: str
    sha256: str | None = None
    item_id: str | None = None
    outcome: str = "pending"
    """uploaded, duplicate (already in the account or earlier in this run), error, skipped."""
    status: str | None = None
    error: str | None = None


@dataclass
class UploadReport:
    files: list[FileResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.files if result.outcome == outcome)

    def statuses(self, status: str) -> list[FileResult]:
        return [result for result in self.files if result.status == status]

    def failed(self) -> bool:
        return bool(self.statuses("failed")) or self.count("error") > 0

    def summary(self, waited: bool) -> str:
        parts = [
            f"uploaded {self.count('uploaded')}",
            f"duplicates skipped {self.count('duplicate')}",
        ]
        if self.count("skipped"):
            parts.append(f"not images {self.count('skipped')}")
        if self.count("error"):
            errors = "; ".join(
                f"{Path(r.path).name}: {r.error}" for r in self.files if r.outcome == "error"
            )
            parts.append(f"errors {self.count('error')} ({errors})")
        if waited:
            parts.append(f"searchable {len(self.statuses('searchable'))}")
            failed = self.statuses("failed")
            reasons = "; ".join(f"{Path(r.path).name}: {r.error}" for r in failed)
            parts.append(f"failed {len(failed)}" + (f" ({reasons})" if failed else ""))
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "uploaded": self.count("uploaded"),
            "duplicates": self.count("duplicate"),
            "skipped": self.count("skipped"),
            "errors": self.count("error"),
            "searchable": len(self.statuses("searchable")),
            "failed": len(self.statuses("failed")),
            "files": [vars(result) for result in self.files],
        }


class Uploader:
    def __init__(self, client: ApiClient, console: Console, *, concurrency: int) -> None:
        self.client = client
        self.console = console
        self.concurrency = concurrency

    async def run(self, paths: list[Path], *, wait: bool, within: float) -> UploadReport:
        images, skipped = collect(paths)
        report = UploadReport(
            [FileResult(str(s.path), outcome="skipped", error=s.reason) for s in skipped]
        )
        for entry in skipped:
            self.console.print(
                f"skipped {entry.path}: {entry.reason}", style="dim", highlight=False
            )
        if not images:
            return report
        results = {image.path: FileResult(str(image.path)) for image in images}
        report.files.extend(results.values())
        with self._progress() as progress:
            hashing = progress.add_task("hashing", total=sum(image.size for image in images))
            for number, image in enumerate(images, 1):
                results[image.path].sha256 = await asyncio.to_thread(sha256_of, image.path)
                progress.update(
                    hashing, advance=image.size, description=f"hashing {number}/{len(images)} files"
                )
            progress.remove_task(hashing)
            todo = await self._skip_known(images, results)
            await self._upload_all(todo, results, progress)
        if wait:
            await self._wait(report, within)
        return report

    def _progress(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )

    async def _skip_known(
        self, images: list[ImageFile], results: dict[Path, FileResult]
    ) -> list[ImageFile]:
        hashes = sorted({result.sha256 for result in results.values() if result.sha256})
        known: dict[str, dict[str, Any]] = {}
        for start in range(0, len(hashes), LOOKUP_BATCH):
            body = await self.client.json(
                "POST", "/items/lookup", json={"sha256": hashes[start : start + LOOKUP_BATCH]}
            )
            known.update({entry["sha256"]: entry for entry in body.get("found", [])})
        todo: list[ImageFile] = []
        first_of: set[str] = set()
        for image in images:
            result = results[image.path]
            assert result.sha256 is not None
            if result.sha256 in known:
                result.outcome, result.item_id = "duplicate", str(known[result.sha256]["item_id"])
                result.status = str(known[result.sha256]["status"])
            elif result.sha256 in first_of:
                result.outcome = "duplicate"  # the same bytes earlier in this run
            else:
                first_of.add(result.sha256)
                todo.append(image)
        return todo

    async def _upload_all(
        self, todo: list[ImageFile], results: dict[Path, FileResult], progress: Progress
    ) -> None:
        task = progress.add_task(f"uploading 0/{len(todo)} files", total=sum(i.size for i in todo))
        gate = asyncio.Semaphore(self.concurrency)
        done = 0

        async def one(image: ImageFile) -> None:
            nonlocal done
            async with gate:
                await self._upload(image, results[image.path])
                done += 1
                progress.update(
                    task, advance=image.size, description=f"uploading {done}/{len(todo)} files"
                )

        await asyncio.gather(*(one(image) for image in todo))

    async def _upload(self, image: ImageFile, result: FileResult) -> None:
        try:
            data = await asyncio.to_thread(image.path.read_bytes)
            body = await self.client.json(
                "POST",
                "/items",
                files={"file": (image.path.name, data, image.mime)},
                headers={"idempotency-key": f"sha256-{result.sha256}"},
            )
        except CliError as error:
            result.outcome, result.error = "error", error.message
            return
        except OSError as error:
            result.outcome, result.error = "error", f"unreadable: {error.strerror or error}"
            return
        result.outcome, result.item_id, result.status = (
            "uploaded",
            str(body["id"]),
            str(body["status"]),
        )

    async def _wait(self, report: UploadReport, within: float) -> None:
        by_id = {
            r.item_id: r
            for r in report.files
            if r.item_id and r.outcome in ("uploaded", "duplicate")
        }
        pending = {
            item_id
            for item_id, result in by_id.items()
            if result.status not in ("searchable", "failed")
        }

        with self._progress() as progress:
            task = progress.add_task(f"processing 0/{len(pending)} items", total=None)
            finished = 0

            def done(item_id: str, outcome: Outcome) -> None:
                nonlocal finished
                finished += 1
                progress.update(task, description=f"processing {finished}/{len(pending)} items")

            outcomes = await Follower(self.client, pending, done).run(within)
        for item_id, outcome in outcomes.items():
            result = by_id[item_id]
            result.status = outcome.status
            if outcome.status == "failed":
                result.error = (
                    f"{outcome.code}: {outcome.message}" if outcome.message else outcome.code
                )
        for result in by_id.values():
            if result.status == "failed" and result.error is None:
                result.error = "failed earlier (see `collections items show`)"
