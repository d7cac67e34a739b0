"""Agentic search: what Claude's tool loop costs over the rules planner, measured in one run.

A fresh local stack provides PostgreSQL (pgvector) and the S3 emulator. The 52 golden photos go
in as analysed items written directly (summary from caption 0, description from captions 1-2,
content words as tags, vectors from the offline model), and captions 3-4 are the 104 queries.
Two ``SearchService`` instances share that database: one without an LLM (the rules planner) and
one whose Claude is the real SDK against the local fake Messages API, scripted like a model
that searches once with the request's words and then ranks what it found. The fake answers at
once, so the difference is the loop's own cost (SDK, two HTTP round trips, JSON, argument
checks), not a model's thinking time; it says nothing about ranking quality. Plain hybrid
search is the baseline; the runs take turns query by query, so a busy machine slows all alike.
It also checks the no-LLM behaviour (plan source, answer, llm_calls).

Run ``python -m bench agentic``.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench._golden import insert_analysed
from collections_devtools.fakes.anthropic import (
    FakeAnthropic,
    RecordedRequest,
    Reply,
    tool_use_reply,
)
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.stack import running_stack
from collections_embeddings.factory import EmbeddingSettings, build_provider
from collections_search.service import SearchService
from collections_search.settings import Settings
from collections_shared.aws import AwsClients
from collections_shared.db import create_pool
from collections_shared.domain.search import SearchRequest
from collections_shared.llm import ClaudeConfig, build_claude

RUNS = ("hybrid", "agentic: rules", "agentic: llm (fake)")


def scripted_model(request: RecordedRequest) -> Reply:
    """A model's moves, without its judgement: search the request's words, then rank the hits."""
    messages = request.body["messages"]
    if len(messages) == 1:
        asked = re.search(r"<request>(.*)</request>", messages[0]["content"], re.DOTALL)
        return tool_use_reply({"query": asked.group(1) if asked else "photo"}, name="search")
    found = json.loads(messages[-1]["content"][-1]["content"])["results"]
    plan = {"item_ids": [result["item_id"] for result in found], "plan": "Searched the words."}
    return tool_use_reply(plan, name="finish")


async def _timed(
    service: SearchService, user_id: str, queries: list[str], **request: Any
) -> tuple[list[float], list[Any]]:
    latencies, responses = [], []
    for query in queries:
        started = time.perf_counter()
        response = await service.search(user_id, SearchRequest(query=query, limit=10, **request))
        latencies.append((time.perf_counter() - started) * 1000)
        responses.append(response)
    return latencies, responses


async def _interleaved(
    runs: dict[str, tuple[SearchService, str]], user_id: str, queries: list[str]
) -> dict[str, tuple[list[float], list[Any]]]:
    """Each query through every run in turn, so a busy machine slows all runs alike."""
    measured: dict[str, tuple[list[float], list[Any]]] = {name: ([], []) for name in runs}
    for query in queries:
        for name, (service, mode) in runs.items():
            latencies, responses = await _timed(service, user_id, [query], mode=mode)
            measured[name][0].extend(latencies)
            measured[name][1].extend(responses)
    return measured


def _summary(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {
        "p50": round(cuts[49], 1),
        "p95": round(cuts[94], 1),
        "mean": round(statistics.fmean(samples), 1),
    }


async def _measure(rows: list[list[str]]) -> dict[str, Any]:
    queries = [caption for captions in rows for caption in captions[3:5]]
    user_id = str(uuid.uuid4())
    embedder = build_provider(EmbeddingSettings(provider="local"))
    with tempfile.TemporaryDirectory(prefix="collections-agentic-") as folder:
        async with (
            running_stack(Path(folder) / "state") as stack,
            AsyncExitStack() as resources,
        ):
            for captions in rows:
                await insert_analysed(stack.owner_database_url(), embedder, user_id, captions)
            settings = Settings(
                database_url=stack.app_database_url(), aws_endpoint_url=stack.config.aws_endpoint
            )
            pool = await create_pool(settings.database_url)
            resources.push_async_callback(pool.close)
            aws = AwsClients(region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
            s3 = await aws.open(resources, "s3")
            fake = resources.enter_context(FakeAnthropic(default=scripted_model))
            claude = build_claude(ClaudeConfig(api_key="bench", base_url=fake.url, max_retries=0))
            assert claude is not None
            resources.push_async_callback(claude.aclose)
            rules = SearchService(pool, embedder, s3, settings)
            llm = SearchService(pool, embedder, s3, settings, claude=claude)
            await _timed(rules, user_id, queries[:5], mode="agentic")  # warm caches
            await _timed(llm, user_id, queries[:5], mode="agentic")
            runs = {
                RUNS[0]: (rules, "hybrid"),
                RUNS[1]: (rules, "agentic"),
                RUNS[2]: (llm, "agentic"),
            }
            measured = await _interleaved(runs, user_id, queries)
            _, answered = await _timed(rules, user_id, queries[:20], mode="agentic", answer=True)
    plans = {
        run: [r.plan.source for r in responses if r.plan]
        for run, (_, responses) in measured.items()
    }
    paired = [
        with_llm - with_rules
        for with_llm, with_rules in zip(measured[RUNS[2]][0], measured[RUNS[1]][0], strict=True)
    ]
    return {
        "queries": len(queries),
        "latency_ms": {run: _summary(latencies) for run, (latencies, _) in measured.items()},
        "loop_overhead_ms": {
            "median_per_query": round(statistics.median(paired), 1),
            "mean_per_query": round(statistics.fmean(paired), 1),
        },
        "llm_plans": plans[RUNS[2]].count("llm"),
        "rules_plans_without_llm": plans[RUNS[1]].count("rules"),
        "llm_calls_without_llm": sum(r.llm_calls for r in measured[RUNS[1]][1]),
        "no_llm_answers": {
            "answer_null": sum(r.answer is None for r in answered),
            "answer_unavailable_no_llm": sum(r.answer_unavailable == "no_llm" for r in answered),
            "asked": len(answered),
        },
    }


def run() -> dict[str, Any]:
    """Print per-run latency and the loop's overhead over the rules planner."""
    if not (GOLDEN / "captions.jsonl").exists():
        print(f"golden set not found at {GOLDEN}; skipped")
        return {"skipped": True}
    lines = (GOLDEN / "captions.jsonl").read_text().splitlines()
    rows = [json.loads(line)["captions"] for line in lines if line.strip()]
    result = asyncio.run(_measure(rows))
    latency = result["latency_ms"]
    print(f"{result['queries']} caption queries over {len(rows)} items, in-process service calls")
    print("| run | p50 ms | p95 ms | mean ms |\n|---|---|---|---|")
    for run_name, numbers in latency.items():
        print(f"| {run_name} | {numbers['p50']} | {numbers['p95']} | {numbers['mean']} |")
    overhead = result["loop_overhead_ms"]
    print(
        f"\ntool loop over the rules planner, paired per query: median "
        f"+{overhead['median_per_query']} ms, mean +{overhead['mean_per_query']} ms"
    )
    print(
        f"plans from the loop: {result['llm_plans']}/{result['queries']}; without an LLM: "
        f"{result['rules_plans_without_llm']} rules plans, {result['llm_calls_without_llm']} LLM "
        f"calls, answers {result['no_llm_answers']}"
    )
    return result
