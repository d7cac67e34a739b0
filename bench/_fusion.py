"""Choosing hybrid's keyword share on the training half, so hybrid beats both arms on each recipe.

Each arm's calibrated probabilities are computed once per query (numpy arrays); every candidate
fusion is then only a weighted sum. A fusion is ``(alpha, weak_alpha, keyword_gate)``: the
keyword share is ``alpha`` when the query's best compressed BM25 score reaches the gate and
``weak_alpha`` below it (see ``collections_search.calibration.ModelCalibration``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from collections_search import calibration
from collections_search.calibration import Logistic

if TYPE_CHECKING:
    from bench._fit import Query

ALPHAS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
WEAK_ALPHAS = (0.0, 0.02, 0.05, 0.1)
GATE_QUANTILES = (10, 25, 40, 50, 60, 75, 90)


@dataclass(frozen=True)
class Fusion:
    alpha: float
    weak_alpha: float | None
    keyword_gate: float


@dataclass(frozen=True)
class _Arrays:
    recipe: str
    keyword: np.ndarray
    vector: np.ndarray
    wanted: int
    """Index of the wanted item among the query's hybrid candidates (-1: not found)."""
    top_keyword: float


def precompute(queries: list[Query], keyword: Logistic, vector: Logistic) -> list[_Arrays]:
    """Both arms' probabilities per answerable query's hybrid candidates."""
    out = []
    for query in queries:
        if query.wanted is None:
            continue
        found = query.found("hybrid")
        top, best = calibration.top_similarity(found), calibration.top_keyword(found)
        values = [calibration.features(c, top, best) for c in found]
        ids = [c.item_id for c in found]
        out.append(
            _Arrays(
                query.recipe,
                np.array([keyword.probability(v) for v in values]),
                np.array([vector.probability(v) for v in values]),
                ids.index(query.wanted) if query.wanted in ids else -1,
                values[0]["top_keyword"] if values else 0.0,
            )
        )
    return out


def _ranks(arrays: list[_Arrays], alpha_of: Callable[[float], float]) -> np.ndarray:
    ranks = []
    for a in arrays:
        if a.wanted < 0:
            ranks.append(10_000)
            continue
        share = alpha_of(a.top_keyword)
        mixed = share * a.keyword + (1 - share) * a.vector
        ranks.append(1 + int(np.sum(mixed > mixed[a.wanted])))
    return np.array(ranks)


def _scores(ranks: np.ndarray) -> tuple[float, float]:
    """(MRR@10, R@10)."""
    mrr = float(np.mean(np.where(ranks <= 10, 1.0 / ranks, 0.0)))
    return mrr, float(np.mean(ranks <= 10))


def _alpha_of(fusion: Fusion) -> Callable[[float], float]:
    def share(top_keyword: float) -> float:
        if fusion.weak_alpha is not None and top_keyword < fusion.keyword_gate:
            return fusion.weak_alpha
        return fusion.alpha

    return share


def margin(arrays: list[_Arrays], fusion: Fusion) -> tuple[float, float]:
    """(worst recipe's margin of hybrid over its better arm on MRR@10 and R@10, pooled MRR)."""
    worst = np.inf
    for recipe in sorted({a.recipe for a in arrays}):
        part = [a for a in arrays if a.recipe == recipe]
        hybrid = _scores(_ranks(part, _alpha_of(fusion)))
        keyword = _scores(_ranks(part, lambda _: 1.0))
        vector = _scores(_ranks(part, lambda _: 0.0))
        worst = min(worst, *(hybrid[i] - max(keyword[i], vector[i]) for i in (0, 1)))
    return float(worst), _scores(_ranks(arrays, _alpha_of(fusion)))[0]


def choose(arrays: list[_Arrays]) -> tuple[Fusion, dict[str, float]]:
    """The fusion whose worst per-recipe margin over both arms is largest on training."""
    tops = np.array([a.top_keyword for a in arrays])
    gates = sorted({round(float(np.percentile(tops, q)), 4) for q in GATE_QUANTILES})
    grid = [Fusion(a, None, 0.0) for a in ALPHAS] + [
        Fusion(a, w, g) for a, w, g in itertools.product(ALPHAS, WEAK_ALPHAS, gates) if w < a
    ]
    scored = {fusion: margin(arrays, fusion) for fusion in grid}
    best = max(scored, key=lambda f: scored[f])
    worst, mrr = scored[best]
    return best, {"train_worst_margin": round(worst, 4), "train_mrr": round(mrr, 4)}
