"""Logistic fitting, the fusion alternatives and their metrics for ``bench/calibrate.py`` (numpy).

Every model is fitted on one half of the queries (split by photo) and scored on the other;
``bench._crossval`` swaps the halves and pools the two held-out halves.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from bench import _no_match
from collections_search import calibration
from collections_search.calibration import Candidate, Logistic

Ranked = list[tuple[uuid.UUID, float]]
Ranker = Callable[["Query"], list[uuid.UUID]]
Fitted = calibration.ModelCalibration
ModelOf = Callable[["Query"], Fitted]
"""The model a query is scored with: the one fitted on the half the query is not in."""
RIDGE = 1.0
"""L2 penalty on each arm's weights (not the intercept): 52 items and ~100 training positives."""
MODES = ("keyword", "vector", "hybrid")


@dataclass(frozen=True)
class HybridConfig:
    """How hard hybrid's one logistic over both arms' features is shrunk."""

    ridge: float

    @property
    def name(self) -> str:
        return f"one logistic over both arms' features, ridge {self.ridge}"


HYBRID_CONFIGS = [HybridConfig(ridge) for ridge in (0.1, 0.3, 0.5, 1.0, 2.0)]


@dataclass(frozen=True)
class Query:
    text: str
    wanted: uuid.UUID | None
    train: bool
    keyword: Ranked
    vector: Ranked
    recipe: str = ""
    """Which document recipe the query was asked of (held-out results are reported per recipe)."""
    paraphrase: bool = False
    """A query sharing no word with its photo's captions: an answerable query of the no-match
    fits, never of the rankings' (``fit_model``)."""

    def found(self, arm: str) -> list[Candidate]:
        """The candidates the service scores in ``arm``'s mode (hybrid: both arms)."""
        keyword = self.keyword if arm != "vector" else []
        vector = self.vector if arm != "keyword" else []
        return calibration.candidates(keyword, vector)


def _values(found: list[Candidate]) -> list[tuple[Candidate, dict[str, float]]]:
    top, best = calibration.top_similarity(found), calibration.top_keyword(found)
    return [(c, calibration.features(c, top, best)) for c in found]


def fit_logistic(queries: list[Query], arm: calibration.Arm, ridge: float = RIDGE) -> Logistic:
    """P(relevant) from the arm's features over every candidate of every query."""
    names = calibration.FEATURES[arm]
    rows, labels = [], []
    for query in queries:
        for candidate, values in _values(query.found(arm)):
            rows.append([values.get(name, 0.0) for name in names])
            labels.append(1.0 if candidate.item_id == query.wanted else 0.0)
    return _irls(np.array(rows, dtype=float), np.array(labels, dtype=float), names, ridge=ridge)


def _irls(
    x: np.ndarray, y: np.ndarray, names: tuple[str, ...], *, ridge: float = RIDGE
) -> Logistic:
    """Ridge logistic regression by Newton's method (IRLS); converges in a few steps here."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * ridge
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -30, 30)))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    weights = {name: round(float(w), 5) for name, w in zip(names, beta[1:], strict=True)}
    return Logistic(intercept=round(float(beta[0]), 5), weights=weights)


def rrf(weight: float, k: int) -> Ranker:
    def rank(query: Query) -> list[uuid.UUID]:
        scores: dict[uuid.UUID, float] = {}
        for arm_weight, ranked in ((1 - weight, query.keyword), (weight, query.vector)):
            for position, (item, _) in enumerate(ranked, start=1):
                scores[item] = scores.get(item, 0.0) + arm_weight / (k + position)
        return sorted(scores, key=lambda item: -scores[item])

    return rank


def logistic(model: Logistic, arm: str) -> Ranker:
    return ranker(model.probability, arm)


def convex(keyword: Logistic, vector: Logistic, alpha: float) -> Ranker:
    """alpha x P(relevant | keyword evidence) + (1 - alpha) x P(relevant | vector evidence)."""

    def mixed(values: dict[str, float]) -> float:
        return alpha * keyword.probability(values) + (1 - alpha) * vector.probability(values)

    return ranker(mixed, "hybrid")


def ranker(scorer: Callable[[dict[str, float]], float], arm: str) -> Ranker:
    def rank(query: Query) -> list[uuid.UUID]:
        return [c.item_id for c, _ in calibration.score(query.found(arm), scorer)]

    return rank


def ranks(queries: list[Query], ranker: Ranker) -> list[int | None]:
    """The wanted photo's rank per answerable query (None: not found)."""
    out = []
    for query in queries:
        if query.wanted is not None:
            order = ranker(query)
            out.append(order.index(query.wanted) + 1 if query.wanted in order else None)
    return out


def metrics(queries: list[Query], ranker: Ranker) -> dict[str, float]:
    found = ranks(queries, ranker)
    total = len(found)
    out = {f"R@{k}": sum(1 for r in found if r and r <= k) / total for k in (1, 5, 10)}
    out["MRR@10"] = sum(1 / r for r in found if r and r <= 10) / total
    return {key: round(value, 4) for key, value in out.items()}


def _tops(queries: list[Query], model_of: ModelOf, mode: str) -> list[tuple[Query, float, bool]]:
    """Per query: its best calibrated score in ``mode``, and whether the wanted photo is in
    that mode's top 10."""
    out = []
    for query in queries:
        scored = calibration.score(query.found(mode), model_of(query).scorer(mode))
        top10 = [c.item_id for c, _ in scored[:10]]
        out.append((query, scored[0][1] if scored else 0.0, query.wanted in top10))
    return out


def no_match(
    queries: list[Query], model_of: ModelOf, mode: str, threshold: float | None = None
) -> dict[str, float]:
    """Share of no-answer queries emptied by the per-result bar (the model's own, or
    ``threshold``), and the Recall@10 points it costs the answerable ones."""
    return _emptied(_tops(queries, model_of, mode), model_of, mode, threshold)


def _emptied(
    tops: list[tuple[Query, float, bool]], model_of: ModelOf, mode: str, threshold: float | None
) -> dict[str, float]:
    def emptied(query: Query, top: float) -> bool:
        return top < (model_of(query).threshold(mode) if threshold is None else threshold)

    answerable = [t for t in tops if t[0].wanted is not None]
    unanswerable = [t for t in tops if t[0].wanted is None]
    lost = sum(1 for query, top, hit in answerable if hit and emptied(query, top))
    return {
        "no_answer_share_empty": round(
            sum(1 for query, top, _ in unanswerable if emptied(query, top)) / len(unanswerable), 4
        ),
        "recall10_cost_points": round(100 * lost / len(answerable), 2),
    }


def choose_threshold(train: list[Query], model: Fitted, mode: str, max_cost: float = 1.0) -> float:
    """The highest threshold whose Recall@10 cost on training queries stays within max_cost."""
    tops = _tops(train, lambda _: model, mode)
    best = 0.0
    for threshold in sorted({round(top, 4) for _, top, _ in tops}):
        cost = _emptied(tops, lambda _: model, mode, threshold)["recall10_cost_points"]
        if cost <= max_cost:
            best = threshold
    return best


def fit_rankings(train: list[Query], config: HybridConfig) -> Fitted:
    """Each mode's logistic, from the caption queries alone; no no_match bars yet."""
    captions = [q for q in train if not q.paraphrase]
    return calibration.ModelCalibration(
        keyword=fit_logistic(captions, "keyword"),
        vector=fit_logistic(captions, "vector"),
        hybrid=fit_logistic(captions, "hybrid", ridge=config.ridge),
        no_match_threshold=0.0,
    )


def fit_model(train: list[Query], config: HybridConfig) -> Fitted:
    """:func:`fit_rankings`, then one no_match bar per mode and hybrid's query-level rule
    (from every query: what a bar costs a paraphrase counts)."""
    model = fit_rankings(train, config)
    thresholds = {mode: choose_threshold(train, model, mode) for mode in MODES}
    return msgspec.structs.replace(
        model,
        no_match_threshold=thresholds["hybrid"],
        no_match_thresholds=thresholds,
        query_no_match=_no_match.fit(train, model),
    )


def strategies(train: list[Query], model: Fitted, served: str) -> dict[str, Ranker]:
    """The served ranking and the alternatives, the tuned ones tuned on ``train``."""
    grid_rrf = {
        f"rrf w={w} k={k}": rrf(w, k) for w in (0.5, 0.6, 0.7, 0.8, 0.9) for k in (5, 20, 60)
    }
    grid_convex = {
        f"convex a={a}": convex(model.keyword, model.vector, a)
        for a in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    }
    best_rrf, best_convex = _tune(train, grid_rrf), _tune(train, grid_convex)
    return {
        "keyword (arm alone)": logistic(model.keyword, "keyword"),
        "vector (arm alone)": logistic(model.vector, "vector"),
        "rrf w=0.8 k=60 (before)": rrf(0.8, 60),
        "weighted rrf, tuned on the other half": grid_rrf[best_rrf],
        "convex, alpha tuned on the other half": grid_convex[best_convex],
        f"{served} (served)": logistic(model.hybrid, "hybrid"),
    }


def _tune(train: list[Query], rankers: dict[str, Ranker]) -> str:
    """The name whose training MRR@10 (then R@10) is highest."""
    return max(rankers, key=lambda name: tuple(metrics(train, rankers[name]).values())[::-1])


def reliability(queries: list[Query], model_of: ModelOf, bins: int = 5) -> dict[str, Any]:
    predicted, observed = [], []
    for query in queries:
        scorer = model_of(query).hybrid.probability
        for candidate, p in calibration.score(query.found("hybrid"), scorer):
            predicted.append(p)
            observed.append(1.0 if candidate.item_id == query.wanted else 0.0)
    p_arr, y_arr = np.array(predicted), np.array(observed)
    base = float(y_arr.mean())
    edges = [0.0, 0.05, 0.2, 0.4, 0.7, 1.0001][: bins + 1]
    table = []
    for low, high in itertools.pairwise(edges):
        mask = (p_arr >= low) & (p_arr < high)
        if mask.any():
            table.append({
                "bin": f"{low:.2f}-{min(high, 1.0):.2f}",
                "n": int(mask.sum()),
                "mean_predicted": round(float(p_arr[mask].mean()), 4),
                "observed": round(float(y_arr[mask].mean()), 4),
            })  # fmt: skip
    return {
        "brier": round(float(np.mean((p_arr - y_arr) ** 2)), 5),
        "brier_base_rate": round(float(np.mean((base - y_arr) ** 2)), 5),
        "bins": table,
    }
