"""Reading the collection: search, item listing and details, export as JSON lines."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console
from rich.table import Table

from collections_cli.client import ApiClient
from collections_cli.errors import CliError

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/heif": "heif",
}


def _date(value: Any) -> str:
    return str(value or "")[:10]


async def search(client: ApiClient, query: str, *, mode: str, limit: int) -> Any:
    return await client.json("POST", "/search", json={"query": query, "mode": mode, "limit": limit})


def search_table(console: Console, body: Any) -> None:
    results = body.get("results", [])
    if not results:
        console.print("nothing in your collection matches", highlight=False)
        return
    table = Table("score", "summary", "date", "id", box=None, pad_edge=False)
    for result in results:
        item = result.get("item") or {}
        table.add_row(
            f"{float(result.get('score', 0)):.2f}",
            str(item.get("summary") or item.get("filename") or ""),
            _date(item.get("taken_at") or item.get("created_at")),
            str(result.get("item_id")),
        )
    console.print(table)


async def pages(client: ApiClient, **filters: str) -> AsyncIterator[dict[str, Any]]:
    """Every item summary, newest first, page by page."""
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **filters, **({"cursor": cursor} if cursor else {})}
        page = await client.json("GET", "/items", params=params)
        for item in page.get("items", []):
            yield item
        cursor = page.get("next_cursor")
        if not cursor:
            return


def items_table(console: Console, items: list[dict[str, Any]]) -> None:
    table = Table("id", "status", "category", "filename", "uploaded", box=None, pad_edge=False)
    for item in items:
        table.add_row(
            str(item["id"]),
            str(item.get("status")),
            str(item.get("category") or ""),
            str(item.get("filename")),
            _date(item.get("created_at")),
        )
    console.print(table)


async def export(client: ApiClient, out: IO[str], images: Path | None, console: Console) -> int:
    """One JSON line per item (its details and latest analysis); originals into ``images``
    (an existing folder)."""
    count = 0
    async with httpx.AsyncClient(timeout=120) as storage:  # presigned URLs: never our token
        async for summary in pages(client):
            detail = await client.json("GET", f"/items/{summary['id']}")
            line = {key: value for key, value in detail.items() if not key.endswith("_url")}
            if images is not None and detail.get("original_url"):
                line["image_file"] = await _download(storage, detail, images)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
            if out is not sys.stdout:
                console.print(f"exported {count} item(s)", end="\r", highlight=False)
    return count


async def _download(storage: httpx.AsyncClient, detail: dict[str, Any], folder: Path) -> str:
    name = f"{detail['id']}.{_EXTENSIONS.get(str(detail.get('mime_type')), 'bin')}"
    target = folder / name
    if not target.exists():
        try:
            response = await storage.get(str(detail["original_url"]))
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise CliError(f"downloading the original of {detail['id']} failed: {error}") from error
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(response.content)
        partial.replace(target)
    return name
