"""Fitting hybrid's query-level "nothing matches" (``calibration.QueryNoMatch``).

One row per query: its best keyword and vector evidence, labelled 1 when the photo it is about
is in hybrid's top 10 and 0 when no photo answers it (answerable queries that miss anyway are
left out: emptying them costs no recall). Fitted only on the recipes whose analyses are built
from captions, the stand-in for a vision model's descriptions: on the offline analyzer's
descriptions no bar empties any no-answer query within a point of recall (measured, see
docs/search.md), so the service does not apply it to them. The bar is the highest probability
whose Recall@10 cost on the training half stays within ``MAX_COST_POINTS``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from collections_search import calibration

if TYPE_CHECKING:
    from bench._fit import Fitted, ModelOf, Query

RIDGE = 0.1
"""Two features and ~200 rows: a light penalty (1.0 shrank the similarity weight to a third and
emptied 70% of held-out no-answer queries instead of 82%)."""
MAX_COST_POINTS = 1.0
MIN_ITEMS = 40
"""The golden collection has 52; below ~40 documents BM25's smoothing dominates its IDF."""
OFFLINE_RECIPE = "offline analyzer"
NAMES = ("top_keyword", "top_similarity")


def _evidence(query: Query) -> dict[str, float]:
    found = query.found("hybrid")
    return {
        "top_keyword": math.log1p(max(calibration.top_keyword(found) or 0.0, 0.0)),
        "top_similarity": calibration.top_similarity(found) or 0.0,
    }


class Row:
    """One query of a rich recipe: its evidence, whether hybrid's top 10 has its photo, and
    whether the collection is large enough for the rule."""

    def __init__(self, query: Query, model: Fitted) -> None:
        found = query.found("hybrid")
        scored = calibration.score(found, model.scorer("hybrid"))
        self.query = query
        self.values = _evidence(query)
        self.hit = query.wanted in [c.item_id for c, _ in scored[:10]]
        self.applies = sum(1 for c in found if c.similarity is not None) >= MIN_ITEMS


def _rows(queries: list[Query], model_of: ModelOf) -> list[Row]:
    return [Row(query, model_of(query)) for query in queries if query.recipe != OFFLINE_RECIPE]


def _outcome(rows: list[Row], emptied: list[bool]) -> dict[str, float]:
    answerable = [(row, e) for row, e in zip(rows, emptied, strict=True) if row.query.wanted]
    unanswerable = [e for row, e in zip(rows, emptied, strict=True) if not row.query.wanted]
    lost = sum(1 for row, e in answerable if row.hit and e)
    return {
        "no_answer_share_empty": round(sum(unanswerable) / len(unanswerable), 4),
        "recall10_cost_points": round(100 * lost / len(answerable), 2),
    }


def fit(train: list[Query], model: Fitted) -> calibration.QueryNoMatch:
    from bench._fit import _irls  # noqa: PLC0415 (_fit imports this module)

    rows = _rows(train, lambda _: model)
    fitted = [row for row in rows if row.query.wanted is None or row.hit]
    x = np.array([[row.values[name] for name in NAMES] for row in fitted])
    y = np.array([0.0 if row.query.wanted is None else 1.0 for row in fitted])
    logistic = _irls(x, y, NAMES, ridge=RIDGE)
    probability = [logistic.probability(row.values) for row in rows]
    threshold = 0.0
    for bar in sorted({round(p, 4) for p in probability}):
        emptied = [row.applies and p < bar for row, p in zip(rows, probability, strict=True)]
        if _outcome(rows, emptied)["recall10_cost_points"] <= MAX_COST_POINTS:
            threshold = bar
    # The guard comes after the bar and can only keep results: chosen with it, the bar would
    # rise over the answerable queries it spares (held out: 2.6 points of recall instead of 0.6).
    unanswerable = [row.values["top_similarity"] for row in rows if row.query.wanted is None]
    guard = math.ceil(max(unanswerable) * 100) / 100
    return calibration.QueryNoMatch(logistic, threshold, MIN_ITEMS, guard)


def report(queries: list[Query], model_of: ModelOf) -> dict[str, Any]:
    """Share of no-answer queries emptied and Recall@10 points lost, per rich recipe and all,
    each query judged by the rule of ``model_of(query)``."""
    rows = _rows(queries, model_of)
    recipes = sorted({row.query.recipe for row in rows})
    out: dict[str, Any] = {}
    for recipe in [*recipes, "all rich recipes"]:
        chosen = [row for row in rows if recipe in (row.query.recipe, "all rich recipes")]
        out[recipe] = _outcome(chosen, [judged(row, model_of(row.query)) for row in chosen])
    return out


def judged(row: Row, model: Fitted) -> bool:
    """Whether the query's rule empties it."""
    rule = model.query_no_match
    if rule is None or row.values["top_similarity"] >= rule.similarity_guard:
        return False
    return row.applies and rule.logistic.probability(row.values) < rule.threshold
