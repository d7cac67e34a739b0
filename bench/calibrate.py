"""Fit the search service's score calibration on the golden set, compare fusions, write the file.

The 52 golden photos go in four times, for four users: as analysed items written straight
into the tables (``bench._golden``), built from captions 1-3 (captions 4-5 are the queries) and
from caption 1 alone (captions 2-5 are the queries); through the API, bare, for the offline
analyzer (all five captions are queries); and through the API with caption 1 as an imported
analysis (captions 2-5). ``bench/data/golden_no_answer.txt`` holds the unanswerable ones,
asked of all four, and ``bench/data/golden_paraphrases.jsonl`` holds one query a photo that
shares no word (nor a 4-letter prefix) with any of its five captions (answerable queries of the
no-match fits; the rankings are fitted on captions alone).
Both arms run for real (``collections_search.repository``) and every candidate of every query
becomes a row of per-arm features labelled relevant or not. Split by photo into two
halves (even- and odd-numbered photos and no-answer lines) for two-fold cross-validation
(``bench._crossval``): every reported number is of queries the models were not fitted on.

Run ``python -m bench calibrate``: it rewrites ``collections_search/calibration.json`` for the
embedding model in use (re-fit after the keyword arm's scoring changes with this one command).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import msgspec

from bench import _crossval, _fit, _quality
from bench._golden import insert_analysed
from bench._quality import ingest
from collections_devtools.testing.api import sign_up
from collections_devtools.testing.golden import GOLDEN
from collections_devtools.testing.stack import gateway_client, running_stack
from collections_embeddings.base import EmbeddingProvider
from collections_embeddings.factory import EmbeddingSettings, build_provider
from collections_search import calibration, repository
from collections_shared.db import create_pool, tenant_transaction
from collections_shared.domain.search import Filters

NO_ANSWER = Path(__file__).parent / "data" / "golden_no_answer.txt"
PARAPHRASES = Path(__file__).parent / "data" / "golden_paraphrases.jsonl"
CANDIDATES = 100


RECIPES = {"three captions": (3, 3), "one caption": (1, 1)}
"""Document recipes: (captions the item is built from, first query caption). Two recipes, so the
fit sees a rich analysis and a terse one (like ``make eval``'s imported variant)."""
ANALYSED = "offline analyzer"
"""Third recipe: the photos uploaded bare through the API and analysed by the offline analyzer
(``make eval``'s variant (b), what a user without keys gets); all five captions are queries."""
IMPORTED = "imported caption"
"""Fourth recipe: the photos uploaded through the API with caption 1 as an imported analysis
(headline, summary and description: ``make eval``'s variant (a)); captions 2-5 are queries."""


async def _collect(
    photos: list[dict[str, Any]], no_answer: list[str]
) -> tuple[str, list[_fit.Query]]:
    """Every query's candidates from both arms, with the photo it is about (None: no answer)."""
    embedder = build_provider(EmbeddingSettings(provider="local"))
    paraphrase = {
        line["photo"]: line["query"]
        for line in map(json.loads, PARAPHRASES.read_text().splitlines())
    }
    rows = [[*photo["captions"], paraphrase[photo["id"]]] for photo in photos]
    queries: list[_fit.Query] = []
    with tempfile.TemporaryDirectory(prefix="collections-calibrate-") as folder:
        async with running_stack(
            Path(folder) / "state", GATEWAY_RATE_LIMIT_PER_MINUTE="1000000"
        ) as stack:
            pool = await create_pool(stack.app_database_url())
            try:
                for recipe, (built_from, first_query) in RECIPES.items():
                    user_id = str(uuid.uuid4())
                    ids: list[uuid.UUID | None] = [
                        await insert_analysed(
                            stack.owner_database_url(), embedder, user_id, captions[:built_from]
                        )
                        for captions in rows
                    ]
                    asked = _asked(rows, ids, first_query, no_answer)
                    queries += await _ask(pool, embedder, user_id, recipe, asked)
                user_id, analysed = await _analysed(stack, photos)
                asked = _asked(rows, analysed, 0, no_answer)
                queries += await _ask(pool, embedder, user_id, ANALYSED, asked)
                imported = _quality.imported_analyses(photos)
                user_id, analysed = await _analysed(stack, photos, imported)
                asked = _asked(rows, analysed, 1, no_answer)
                queries += await _ask(pool, embedder, user_id, IMPORTED, asked)
            finally:
                await pool.close()
    return embedder.model, queries


Asked = list[tuple[str, uuid.UUID | None, bool, bool]]


def _asked(
    rows: list[list[str]], ids: list[uuid.UUID | None], first_query: int, no_answer: list[str]
) -> Asked:
    """(query, wanted item, in the training half, a paraphrase): split by photo, even numbers
    train. Each row is a photo's five captions and then its paraphrase."""
    asked: Asked = [
        (query, ids[index], index % 2 == 0, position == len(queries) - 1)
        for index, queries in enumerate(rows)
        for position, query in enumerate(queries)
        if ids[index] is not None and position >= first_query
    ]
    return asked + [(q, None, line % 2 == 0, False) for line, q in enumerate(no_answer)]


async def _ask(
    pool: Any, embedder: EmbeddingProvider, user_id: str, recipe: str, asked: Asked
) -> list[_fit.Query]:
    found = []
    for text, wanted, train, paraphrase in asked:
        keyword, vector = await _arms(pool, embedder, user_id, text)
        found.append(_fit.Query(text, wanted, train, keyword, vector, recipe, paraphrase))
    return found


async def _analysed(
    stack: Any, photos: list[dict[str, Any]], analyses: dict[str, dict[str, Any]] | None = None
) -> tuple[str, list[uuid.UUID | None]]:
    """Upload the photos through the API: bare, so the offline analyzer describes them, or
    with ``analyses`` imported."""
    async with gateway_client(stack, request_timeout=120) as api:
        user = await sign_up(api, f"calibrate-{uuid.uuid4().hex[:8]}@example.com")
        uploaded = await ingest(api, user, GOLDEN, photos, analyses)
        by_photo = {photo: item for item, photo in uploaded.items()}
    # A photo the analyzer failed on stays a query with no findable answer (an honest miss).
    return user.user_id, [
        uuid.UUID(by_photo[p["id"]]) if p["id"] in by_photo else None for p in photos
    ]


async def _arms(
    pool: Any, embedder: EmbeddingProvider, user_id: str, text: str
) -> tuple[_fit.Ranked, _fit.Ranked]:
    embedding = await embedder.embed_query(text)
    async with tenant_transaction(pool, user_id) as connection:
        keyword = await repository.keyword(connection, user_id, text, Filters(), CANDIDATES)
    vector = await repository.vector(
        pool, user_id, model=embedder.model, embedding=embedding,
        filters=Filters(), limit=CANDIDATES, ef_search=100, exact_max_items=2000,
    )  # fmt: skip
    return keyword, vector


def _write(model: str, fitted: calibration.ModelCalibration, summary: dict[str, Any]) -> None:
    current = calibration.load()
    models = {**current.models, model: fitted}
    default = fitted if model == "local-minilm-l6-v2-int8" else current.default
    provenance = {
        **current.fitted,
        model: f"bench/calibrate.py, {summary['queries']} golden queries and "
        f"{summary['paraphrases']} paraphrases, "
        f"{summary['hybrid_config']}",
    }
    updated = calibration.CalibrationFile(
        version=current.version, default=default, models=models, fitted=provenance
    )
    encoded = msgspec.json.format(msgspec.json.encode(updated), indent=2)
    calibration.COEFFICIENTS.write_bytes(encoded + b"\n")
    calibration.load.cache_clear()


def run() -> dict[str, Any]:
    """Fit, compare fusions on the held-out half, print the tables and write the coefficients."""
    if not (GOLDEN / "captions.jsonl").exists():
        print(f"golden set not found at {GOLDEN}; skipped")
        return {"skipped": True}
    no_answer = [line for line in NO_ANSWER.read_text().splitlines() if line.strip()]
    model, queries = asyncio.run(_collect(_quality.rows(GOLDEN), no_answer))
    fitted, summary = _crossval.fit_all(queries)
    _crossval.print_summary(summary)
    _write(model, fitted, summary)
    print(f"\nwrote {calibration.COEFFICIENTS.name} for {model}")
    return summary
