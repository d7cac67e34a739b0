"""Search quality through the real API: uploading a golden-layout folder, ranking, metrics.

Shared by ``bench/search_quality.py`` (``python -m bench search_quality``) and ``bench/eval.py``
(``make eval``). A folder in the golden layout holds ``images/`` and ``captions.jsonl`` (one
object per photo: ``id``, ``file``, ``captions``).
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from collections_devtools.testing.api import ApiUser

CUTOFFS = (1, 5, 10)


def rows(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "captions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def imported_analyses(photos: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per photo id, the analysis ``make eval``'s variant (a) imports: its first caption."""
    return {
        row["id"]: {
            "summary": row["captions"][0],
            "description": row["captions"][0],
            "headline": row["captions"][0][:80],
        }
        for row in photos
    }


async def ingest(
    api: httpx.AsyncClient,
    user: ApiUser,
    folder: Path,
    photos: list[dict[str, Any]],
    analyses: dict[str, dict[str, Any]] | None = None,
) -> dict[str, str]:
    """Upload every photo (with ``analyses[photo id]`` as an imported analysis when given) and
    wait until each is searchable or failed; item id → photo id."""
    ids: dict[str, str] = {}
    for row in photos:
        data: dict[str, str] = {}
        if analyses is not None:
            data["analysis"] = json.dumps(analyses[row["id"]])
            data["analysis_source"] = json.dumps({"system": "eval", "item_id": row["id"]})
        response = await api.post(
            "/items",
            files={"file": (Path(row["file"]).name, (folder / row["file"]).read_bytes())},
            data=data,
            headers=user.headers,
        )
        response.raise_for_status()
        ids[response.json()["id"]] = row["id"]
    deadline = time.monotonic() + 600
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        for item_id in list(pending):
            status = (await api.get(f"/items/{item_id}", headers=user.headers)).json()["status"]
            if status in ("searchable", "failed"):
                pending.discard(item_id)
        await asyncio.sleep(0.5)
    return ids


async def search(
    api: httpx.AsyncClient,
    user: ApiUser,
    query: str,
    mode: str,
    *,
    limit: int = 50,
    min_score: float = 0.0,
) -> dict[str, Any]:
    body = {"query": query, "mode": mode, "limit": limit, "min_score": min_score}
    response = await api.post("/search", json=body, headers=user.headers)
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def latency(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "max": round(max(samples), 1)}


def graded_metrics(judged: list[tuple[dict[str, int], list[str]]]) -> dict[str, float]:
    """Recall@k (any relevant photo in the top k), MRR@10 and nDCG@10 over graded queries:
    each is (photo id → relevance > 0, photos found in order)."""
    total = len(judged)
    found: dict[str, float] = {f"R@{k}": 0.0 for k in CUTOFFS}
    found["MRR@10"] = found["nDCG@10"] = 0.0
    for expected, ranked in judged:
        hits = [i for i, photo in enumerate(ranked[:10], start=1) if expected.get(photo, 0) > 0]
        for k in CUTOFFS:
            found[f"R@{k}"] += any(h <= k for h in hits)
        found["MRR@10"] += 1 / hits[0] if hits else 0.0
        gains = [expected.get(photo, 0) for photo in ranked[:10]]
        ideal = sorted(expected.values(), reverse=True)[:10]
        dcg = sum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))
        best = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
        found["nDCG@10"] += dcg / best if best else 0.0
    return {key: round(value / total, 4) for key, value in found.items()}
