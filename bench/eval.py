"""``make eval DATA=dir [QUERIES=file] [NO_ANSWER=file] [OUT=file.json]``: search quality.

Starts a fresh local stack (``collections_devtools.testing.stack``), signs up fresh users
through the real API and runs two variants over a folder in the golden layout:

- **(a) imported**: every image uploaded with an analysis built from its first caption (the
  ``analysis`` + ``analysis_source`` parts of an import, so the analyzer is skipped); the other
  captions are the queries. This measures retrieval alone.
- **(b) analysed**: every image uploaded bare, analysed by the configured analyzer (offline
  without keys); every caption is a query. This measures the product end to end.

Per variant and mode (and hybrid once more with a ``min_score`` of its own: the ranking without
the query-level ``no_match``): Recall@1/5/10, MRR@10, nDCG@10, the share of no-answer queries
answered with ``no_match`` (``NO_ANSWER``: one query a line) and the server's ``took_ms`` p50/p95.
``QUERIES``: a JSON-lines file of graded queries, ``{"query": ..., "expected": {photo id:
relevance}}`` with the photo ids of ``captions.jsonl``, evaluated over each variant's items.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import _quality
from collections_devtools.testing.api import ApiUser, sign_up
from collections_devtools.testing.stack import gateway_client, running_stack

RANKING_ONLY = 0.0001
"""A ``min_score`` that keeps every result a top 10 holds but is the caller's own bar, so
hybrid's query-level ``no_match`` stays off: the row that measures the fusion's ranking alone."""
MODES = {
    "keyword": ("keyword", 0.0),
    "vector": ("vector", 0.0),
    "hybrid": ("hybrid", 0.0),
    "hybrid, ranking only": ("hybrid", RANKING_ONLY),
}
"""Row label: (mode, min_score)."""
Judged = list[tuple[str, dict[str, int]]]


async def _variant(
    api: httpx.AsyncClient,
    folder: Path,
    photos: list[dict[str, Any]],
    queries: Judged,
    no_answer: list[str],
    *,
    imported: bool,
) -> dict[str, Any]:
    user: ApiUser = await sign_up(api, f"eval-{uuid.uuid4().hex[:8]}@example.com")
    analyses = _quality.imported_analyses(photos) if imported else None
    ids = await _quality.ingest(api, user, folder, photos, analyses)
    result: dict[str, Any] = {"items": len(ids), "queries": len(queries)}
    for label, (mode, min_score) in MODES.items():
        judged, took = [], []
        for query, expected in queries:
            body = await _quality.search(api, user, query, mode, min_score=min_score)
            took.append(float(body["took_ms"]))
            judged.append((expected, [ids.get(r["item_id"], "") for r in body["results"]]))
        scores: dict[str, Any] = dict(_quality.graded_metrics(judged))
        empty = [
            (await _quality.search(api, user, q, mode, min_score=min_score))["no_match"]
            for q in no_answer
        ]
        if no_answer:
            scores["no_answer_rate"] = round(sum(empty) / len(empty), 4)
        scores["took_ms"] = _quality.latency(took)
        result[label] = scores
    return result


def _caption_queries(photos: list[dict[str, Any]], skip_first: bool) -> Judged:
    start = 1 if skip_first else 0
    return [(c, {row["id"]: 1}) for row in photos for c in row["captions"][start:]]


def _graded(path: Path) -> Judged:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        (str(line["query"]), {str(k): int(v) for k, v in line["expected"].items()})
        for line in lines
    ]


async def _measure(
    folder: Path, photos: list[dict[str, Any]], graded: Judged | None, no_answer: list[str]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="collections-eval-") as home:
        async with (
            running_stack(
                Path(home) / "state",
                GATEWAY_RATE_LIMIT_PER_MINUTE="1000000",
                GATEWAY_DAILY_LLM_QUOTA="1000000",
            ) as stack,
            gateway_client(stack, request_timeout=120) as api,
        ):
            return {
                "a_imported": await _variant(
                    api, folder, photos, graded or _caption_queries(photos, True), no_answer,
                    imported=True,
                ),
                "b_analysed": await _variant(
                    api, folder, photos, graded or _caption_queries(photos, False), no_answer,
                    imported=False,
                ),
            }  # fmt: skip


def _print(result: dict[str, Any]) -> None:
    for variant, numbers in result.items():
        print(f"\n{variant}: {numbers['items']} items, {numbers['queries']} queries")
        print("| mode | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | no-answer | took p50 | took p95 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for mode in MODES:
            m = numbers[mode]
            print(
                f"| {mode} | {m['R@1']} | {m['R@5']} | {m['R@10']} | {m['MRR@10']} | "
                f"{m['nDCG@10']} | {m.get('no_answer_rate', '-')} | {m['took_ms']['p50']} | "
                f"{m['took_ms']['p95']} |"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__)
    parser.add_argument("--data", required=True, help="a folder with images/ and captions.jsonl")
    parser.add_argument("--queries", default="", help="graded queries, JSON lines")
    parser.add_argument("--no-answer", default="", help="queries nothing matches, one a line")
    parser.add_argument("--out", default="", help="where to write the JSON results")
    args = parser.parse_args(argv)
    if not (Path(args.data) / "captions.jsonl").is_file():
        print(f"{args.data}: no captions.jsonl; expected the golden layout")
        return 2
    no_answer: list[str] = []
    if args.no_answer:
        no_answer = [q for q in Path(args.no_answer).read_text().splitlines() if q.strip()]
    graded = _graded(Path(args.queries)) if args.queries else None
    folder = Path(args.data)
    result = asyncio.run(_measure(folder, _quality.rows(folder), graded, no_answer))
    _print(result)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
