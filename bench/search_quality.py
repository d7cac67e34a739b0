"""Search quality on the golden set, end to end, with the local providers.

Uploads the 52 golden photos through the API of a fresh local stack, waits until they are
searchable (offline analyzer + offline embeddings), then asks every caption of every photo as a
query in each mode and records where the photo ranks. Reports recall@1/5/10 and MRR per mode,
with a random ranking as the baseline measured in the same run (expected R@10 = 10/52). It also
times every search through the gateway (client round trip, p50/p95 per mode) against the seeds'
targets (hybrid p95 < 200 ms, agentic p95 < 4 s), with keyword search as the in-run baseline.

This measures the product as shipped without keys: the analyzer only knows 80 object classes,
colours, faces and visible text, so captions about activities or scenes are hard for it.
Run ``python -m bench search_quality``.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import _quality
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.stack import gateway_client, running_stack

MODES = ("keyword", "vector", "hybrid", "agentic")
CUTOFFS = (1, 5, 10)
P95_TARGET_MS = {"hybrid": 200.0, "agentic": 4000.0}


def _rows() -> list[dict[str, Any]]:
    return _quality.rows(GOLDEN)


async def _ingest(
    api: httpx.AsyncClient, user: ApiUser, rows: list[dict[str, Any]]
) -> dict[str, str]:
    return await _quality.ingest(api, user, GOLDEN, rows)


async def _rankings(
    api: httpx.AsyncClient,
    user: ApiUser,
    rows: list[dict[str, Any]],
    ids: dict[str, str],
    mode: str,
) -> tuple[list[tuple[str, list[str]]], list[float]]:
    """For every caption query: the photo it describes and the photos found in order; and the
    round trip of each search in milliseconds."""
    rankings: list[tuple[str, list[str]]] = []
    latencies: list[float] = []
    for row in rows:
        for caption in row["captions"]:
            started = time.perf_counter()
            response = await api.post(
                "/search", json={"query": caption, "mode": mode, "limit": 52}, headers=user.headers
            )
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            found = [ids.get(result["item_id"], "") for result in response.json()["results"]]
            rankings.append((row["id"], found))
    return rankings, latencies


def _ranks(rankings: list[tuple[str, list[str]]]) -> list[int | None]:
    return [found.index(wanted) + 1 if wanted in found else None for wanted, found in rankings]


def _fused(
    keyword: list[tuple[str, list[str]]],
    vector: list[tuple[str, list[str]]],
    weight: float,
    k: int = 60,
) -> list[tuple[str, list[str]]]:
    """The search service's weighted RRF, recomputed here to compare vector weights."""
    fused = []
    for (wanted, by_keyword), (_, by_vector) in zip(keyword, vector, strict=True):
        scores: dict[str, float] = {}
        for arm_weight, ranked in ((1 - weight, by_keyword), (weight, by_vector)):
            for position, photo in enumerate(ranked, start=1):
                scores[photo] = scores.get(photo, 0.0) + arm_weight / (k + position)
        fused.append((wanted, sorted(scores, key=lambda photo: -scores[photo])))
    return fused


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    total = len(ranks)
    scores = {f"R@{k}": sum(1 for r in ranks if r is not None and r <= k) / total for k in CUTOFFS}
    scores["MRR"] = sum(1 / r for r in ranks if r is not None) / total
    return {key: round(value, 3) for key, value in scores.items()}


def _random_baseline(queries: int, items: int) -> dict[str, float]:
    generator = random.Random(7)
    return _metrics([generator.randint(1, items) for _ in range(queries)])


async def _measure() -> dict[str, Any]:
    rows = _rows()
    with tempfile.TemporaryDirectory(prefix="collections-quality-") as folder:
        # 1,300 searches from one user: lift the per-user rate limit and the daily LLM quota.
        async with (
            running_stack(
                Path(folder) / "state",
                GATEWAY_RATE_LIMIT_PER_MINUTE="1000000",
                GATEWAY_DAILY_LLM_QUOTA="1000000",
            ) as stack,
            gateway_client(stack, request_timeout=120) as api,
        ):
            user = await sign_up(api, f"quality-{uuid.uuid4().hex[:8]}@example.com")
            ids = await _ingest(api, user, rows)
            result: dict[str, Any] = {"items": len(ids)}
            measured = {mode: await _rankings(api, user, rows, ids, mode) for mode in MODES}
            rankings = {mode: ranked for mode, (ranked, _) in measured.items()}
            for mode in MODES:
                result[mode] = _metrics(_ranks(rankings[mode]))
            result["latency_ms"] = {
                mode: _quality.latency(latencies) for mode, (_, latencies) in measured.items()
            }
            result["fusion_weights"] = {
                str(weight): _metrics(
                    _ranks(_fused(rankings["keyword"], rankings["vector"], weight))
                )
                for weight in (0.5, 0.6, 0.7, 0.8, 0.9)
            }
    result["random"] = _random_baseline(len(rows) * 5, len(rows))
    return result


def run() -> dict[str, Any]:
    """Print recall and MRR per mode against a random ranking."""
    if not (GOLDEN / "captions.jsonl").exists():
        print(f"golden set not found at {GOLDEN}; skipped")
        return {"skipped": True}
    result = asyncio.run(_measure())
    print(f"{result['items']} photos, {result['items'] * 5} caption queries")
    print("| mode | R@1 | R@5 | R@10 | MRR |\n|---|---|---|---|---|")
    for mode in (*MODES, "random"):
        scores = result[mode]
        print(
            f"| {mode} | {scores['R@1']} | {scores['R@5']} | {scores['R@10']} | {scores['MRR']} |"
        )
    print("\nsearch round trip through the gateway, ms (keyword is the baseline):")
    print("| mode | p50 | p95 | max | p95 target |\n|---|---|---|---|---|")
    for mode, latency in result["latency_ms"].items():
        target = P95_TARGET_MS.get(mode)
        verdict = (
            ""
            if target is None
            else f"< {target:.0f}: " + ("PASS" if latency["p95"] < target else "MISSED")
        )
        print(f"| {mode} | {latency['p50']} | {latency['p95']} | {latency['max']} | {verdict} |")
    print("\nhybrid fusion by vector weight (recomputed from the keyword and vector rankings):")
    print("| vector weight | R@1 | R@5 | R@10 | MRR |\n|---|---|---|---|---|")
    for weight, scores in result["fusion_weights"].items():
        print(
            f"| {weight} | {scores['R@1']} | {scores['R@5']} | {scores['R@10']} | {scores['MRR']} |"
        )
    return result
