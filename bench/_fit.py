"""Logistic fitting, fusion strategies and metrics for ``bench/calibrate.py`` (numpy only)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from collections_search import calibration
from collections_search.calibration import Candidate, Logistic

Ranked = list[tuple[uuid.UUID, float]]
Ranker = Callable[["Query"], list[uuid.UUID]]
RIDGE = 1.0
"""L2 penalty on the weights (not the intercept): 52 items and ~100 training positives."""


@dataclass(frozen=True)
class Query:
    text: str
    wanted: uuid.UUID | None
    train: bool
    keyword: Ranked
    vector: Ranked
    recipe: str = ""
    """Which document recipe the query was asked of (held-out results are reported per recipe)."""

    def found(self, arm: str) -> list[Candidate]:
        """The candidates the service scores in ``arm``'s mode (hybrid and joint: both arms)."""
        keyword = self.keyword if arm != "vector" else []
        vector = self.vector if arm != "keyword" else []
        return calibration.candidates(keyword, vector)


def _matrix(queries: list[Query], arm: calibration.Arm) -> tuple[np.ndarray, np.ndarray]:
    names = calibration.FEATURES[arm]
    rows, labels = [], []
    for query in queries:
        found = query.found(arm)
        top = calibration.top_similarity(found)
        for candidate in found:
            values = calibration.features(candidate, top)
            rows.append([values.get(name, 0.0) for name in names])
            labels.append(1.0 if candidate.item_id == query.wanted else 0.0)
    return np.array(rows, dtype=float), np.array(labels, dtype=float)


def fit_logistic(queries: list[Query], arm: calibration.Arm) -> Logistic:
    x, y = _matrix(queries, arm)
    return _irls(x, y, calibration.FEATURES[arm])


def fit_mixture(
    queries: list[Query], keyword: Logistic, vector: Logistic, alpha: float
) -> Logistic:
    """Platt scaling of the convex mixture: one feature, ``mixed``."""
    rows, labels = [], []
    for query in queries:
        found = query.found("hybrid")
        top = calibration.top_similarity(found)
        for candidate in found:
            values = calibration.features(candidate, top)
            mixed = alpha * keyword.probability(values) + (1 - alpha) * vector.probability(values)
            rows.append([mixed])
            labels.append(1.0 if candidate.item_id == query.wanted else 0.0)
    return _irls(np.array(rows), np.array(labels), ("mixed",))


def _irls(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Logistic:
    """Ridge logistic regression by Newton's method (IRLS); converges in a few steps here."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * RIDGE
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


def logistic(model: Logistic, arm: calibration.Arm) -> Ranker:
    def rank(query: Query) -> list[uuid.UUID]:
        return [c.item_id for c, _ in calibration.score(query.found(arm), model.probability)]

    return rank


def convex(keyword: Logistic, vector: Logistic, alpha: float) -> Ranker:
    """alpha x P(relevant | keyword evidence) + (1 - alpha) x P(relevant | vector evidence)."""

    def rank(query: Query) -> list[uuid.UUID]:
        found = query.found("hybrid")
        top = calibration.top_similarity(found)
        mixed = {
            c.item_id: alpha * keyword.probability(calibration.features(c, top))
            + (1 - alpha) * vector.probability(calibration.features(c, top))
            for c in found
        }
        return sorted(mixed, key=lambda item: -mixed[item])

    return rank


def metrics(queries: list[Query], ranker: Ranker) -> dict[str, float]:
    answerable = [q for q in queries if q.wanted is not None]
    ranks = []
    for query in answerable:
        order = ranker(query)
        ranks.append(order.index(query.wanted) + 1 if query.wanted in order else None)
    total = len(ranks)
    found = {f"R@{k}": sum(1 for r in ranks if r and r <= k) / total for k in (1, 5, 10)}
    found["MRR@10"] = sum(1 / r for r in ranks if r and r <= 10) / total
    return {key: round(value, 4) for key, value in found.items()}


Fitted = calibration.ModelCalibration


def _tops(queries: list[Query], model: Fitted) -> list[tuple[Query, float, bool]]:
    """Per query: its best calibrated score, and whether the wanted photo is in the top 10."""
    out = []
    for query in queries:
        scored = calibration.score(query.found("hybrid"), model.mixed)
        top10 = [c.item_id for c, _ in scored[:10]]
        out.append((query, scored[0][1] if scored else 0.0, query.wanted in top10))
    return out


def no_match(queries: list[Query], model: Fitted, threshold: float) -> dict[str, float]:
    tops = _tops(queries, model)
    answerable = [t for t in tops if t[0].wanted is not None]
    unanswerable = [t for t in tops if t[0].wanted is None]
    lost = sum(1 for _, top, hit in answerable if hit and top < threshold)
    return {
        "no_answer_share_empty": round(
            sum(1 for _, top, _ in unanswerable if top < threshold) / len(unanswerable), 4
        ),
        "recall10_cost_points": round(100 * lost / len(answerable), 2),
        "answerable_emptied": round(
            sum(1 for _, top, _ in answerable if top < threshold) / len(answerable), 4
        ),
    }


def choose_threshold(train: list[Query], model: Fitted, max_cost: float = 1.0) -> float:
    """The highest threshold whose Recall@10 cost on training queries stays within max_cost."""
    candidates = sorted({round(top, 4) for _, top, _ in _tops(train, model)})
    best = 0.0
    for threshold in candidates:
        if no_match(train, model, threshold)["recall10_cost_points"] <= max_cost:
            best = threshold
    return best


def reliability(queries: list[Query], model: Fitted, bins: int = 5) -> dict[str, Any]:
    predicted, observed = [], []
    for query in queries:
        for candidate, p in calibration.score(query.found("hybrid"), model.mixed):
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


def _tune(train: list[Query], rankers: dict[str, Ranker]) -> str:
    """The name whose training MRR@10 (then R@10) is highest."""
    return max(rankers, key=lambda name: tuple(metrics(train, rankers[name]).values())[::-1])


def fit_all(queries: list[Query]) -> tuple[calibration.ModelCalibration, dict[str, Any]]:
    train = [q for q in queries if q.train]
    held = [q for q in queries if not q.train]
    models = {arm: fit_logistic(train, arm) for arm in ("keyword", "vector", "joint")}
    grid_rrf = {
        f"rrf w={w} k={k}": rrf(w, k) for w in (0.5, 0.6, 0.7, 0.8, 0.9) for k in (5, 20, 60)
    }
    grid_convex = {
        f"convex a={a}": convex(models["keyword"], models["vector"], a)
        for a in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    }
    best_rrf, best_convex = _tune(train, grid_rrf), _tune(train, grid_convex)
    strategies: dict[str, Ranker] = {
        "keyword (arm alone)": logistic(models["keyword"], "keyword"),
        "vector (arm alone)": logistic(models["vector"], "vector"),
        "rrf w=0.8 k=60 (before)": rrf(0.8, 60),
        f"{best_rrf} (tuned)": grid_rrf[best_rrf],
        f"{best_convex} (tuned)": grid_convex[best_convex],
        "logistic over both arms' features": logistic(models["joint"], "joint"),
    }
    alpha = float(best_convex.removeprefix("convex a="))
    mixture = fit_mixture(train, models["keyword"], models["vector"], alpha)
    unthresholded = calibration.ModelCalibration(
        models["keyword"], models["vector"], alpha, mixture, no_match_threshold=0.0
    )
    threshold = choose_threshold(train, unthresholded)
    fitted = msgspec.structs.replace(unthresholded, no_match_threshold=threshold)
    summary = {
        "train_queries": len(train),
        "held_out_queries": len(held),
        "fusion_held_out": {name: metrics(held, r) for name, r in strategies.items()},
        "fusion_all": {name: metrics(queries, r) for name, r in strategies.items()},
        "fusion_held_out_by_recipe": {
            recipe: {
                name: metrics([q for q in held if q.recipe == recipe], r)
                for name, r in strategies.items()
            }
            for recipe in sorted({q.recipe for q in held})
        },
        "no_match_threshold": threshold,
        "no_match_train": no_match(train, fitted, threshold),
        "no_match_held_out": no_match(held, fitted, threshold),
        "no_match_held_out_by_threshold": {
            str(t): no_match(held, fitted, t) for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
        },
        "calibration_held_out": reliability(held, fitted),
    }
    return fitted, summary


def print_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['train_queries']} training, {summary['held_out_queries']} held-out queries")
    for split in ("fusion_held_out", "fusion_all"):
        print(f"\n{split}:\n| ranking | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|")
        for name, m in summary[split].items():
            print(f"| {name} | {m['R@1']} | {m['R@5']} | {m['R@10']} | {m['MRR@10']} |")
    for recipe, table in summary["fusion_held_out_by_recipe"].items():
        print(
            f"\nheld out, {recipe}:\n| ranking | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|"
        )
        for name, m in table.items():
            print(f"| {name} | {m['R@1']} | {m['R@5']} | {m['R@10']} | {m['MRR@10']} |")
    print(f"\nno_match threshold {summary['no_match_threshold']} (chosen on training)")
    print(f"training: {summary['no_match_train']}\nheld out: {summary['no_match_held_out']}")
    for threshold, numbers in summary["no_match_held_out_by_threshold"].items():
        print(f"held out at {threshold}: {numbers}")
    cal = summary["calibration_held_out"]
    print(f"\nheld-out Brier {cal['brier']} (base rate alone {cal['brier_base_rate']})")
    print("| bin | n | mean predicted | observed |\n|---|---|---|---|")
    for row in cal["bins"]:
        print(f"| {row['bin']} | {row['n']} | {row['mean_predicted']} | {row['observed']} |")
