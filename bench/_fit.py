"""Logistic fitting, fusion strategies and metrics for ``bench/calibrate.py`` (numpy only)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from bench import _fusion, _no_match
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
        for candidate, values in _values(query.found(arm)):
            rows.append([values.get(name, 0.0) for name in names])
            labels.append(1.0 if candidate.item_id == query.wanted else 0.0)
    return np.array(rows, dtype=float), np.array(labels, dtype=float)


def _values(found: list[Candidate]) -> list[tuple[Candidate, dict[str, float]]]:
    top, best = calibration.top_similarity(found), calibration.top_keyword(found)
    return [(c, calibration.features(c, top, best)) for c in found]


def fit_logistic(queries: list[Query], arm: calibration.Arm) -> Logistic:
    x, y = _matrix(queries, arm)
    return _irls(x, y, calibration.FEATURES[arm])


def fit_mixture(queries: list[Query], model: calibration.ModelCalibration) -> Logistic:
    """Platt scaling of the (keyword-gated) convex mixture: one feature, ``mixed``."""
    rows, labels = [], []
    for query in queries:
        for candidate, values in _values(query.found("hybrid")):
            alpha = model.alpha_for(values)
            keyword, vector = model.keyword.probability(values), model.vector.probability(values)
            rows.append([alpha * keyword + (1 - alpha) * vector])
            labels.append(1.0 if candidate.item_id == query.wanted else 0.0)
    return _irls(np.array(rows), np.array(labels), ("mixed",))


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


def logistic(model: Logistic, arm: calibration.Arm) -> Ranker:
    def rank(query: Query) -> list[uuid.UUID]:
        return [c.item_id for c, _ in calibration.score(query.found(arm), model.probability)]

    return rank


IDENTITY = Logistic(intercept=0.0, weights={"mixed": 1.0})
"""A monotone stand-in for the Platt map: ranking by the mixture needs no fitted map."""


def convex(
    keyword: Logistic, vector: Logistic, alpha: float, weak: float | None = None, gate: float = 0
) -> Ranker:
    """alpha x P(relevant | keyword evidence) + (1 - alpha) x P(relevant | vector evidence),
    with ``weak`` as the keyword share when the query's best keyword score is under ``gate``."""
    model = calibration.ModelCalibration(keyword, vector, alpha, IDENTITY, 0.0, weak, gate)
    return logistic_mixed(model)


def logistic_mixed(model: calibration.ModelCalibration) -> Ranker:
    def rank(query: Query) -> list[uuid.UUID]:
        return [c.item_id for c, _ in calibration.score(query.found("hybrid"), model.mixed)]

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


def _tops(
    queries: list[Query], model: Fitted, mode: str = "hybrid"
) -> list[tuple[Query, float, bool]]:
    """Per query: its best calibrated score in ``mode``, and whether the wanted photo is in
    that mode's top 10."""
    out = []
    for query in queries:
        scored = calibration.score(query.found(mode), model.scorer(mode))
        top10 = [c.item_id for c, _ in scored[:10]]
        out.append((query, scored[0][1] if scored else 0.0, query.wanted in top10))
    return out


def no_match(
    queries: list[Query], model: Fitted, threshold: float, mode: str = "hybrid"
) -> dict[str, float]:
    tops = _tops(queries, model, mode)
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


def choose_threshold(
    train: list[Query], model: Fitted, mode: str = "hybrid", max_cost: float = 1.0
) -> float:
    """The highest threshold whose Recall@10 cost on training queries stays within max_cost."""
    candidates = sorted({round(top, 4) for _, top, _ in _tops(train, model, mode)})
    best = 0.0
    for threshold in candidates:
        if no_match(train, model, threshold, mode)["recall10_cost_points"] <= max_cost:
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


MODES = ("keyword", "vector", "hybrid")


def _strategies(train: list[Query], models: dict[str, Logistic]) -> dict[str, Ranker]:
    grid_rrf = {
        f"rrf w={w} k={k}": rrf(w, k) for w in (0.5, 0.6, 0.7, 0.8, 0.9) for k in (5, 20, 60)
    }
    grid_convex = {
        f"convex a={a}": convex(models["keyword"], models["vector"], a) for a in _fusion.ALPHAS
    }
    best_rrf, best_convex = _tune(train, grid_rrf), _tune(train, grid_convex)
    return {
        "keyword (arm alone)": logistic(models["keyword"], "keyword"),
        "vector (arm alone)": logistic(models["vector"], "vector"),
        "rrf w=0.8 k=60 (before)": rrf(0.8, 60),
        f"{best_rrf} (tuned)": grid_rrf[best_rrf],
        f"{best_convex} (tuned on MRR)": grid_convex[best_convex],
        "logistic over both arms' features": logistic(models["joint"], "joint"),
    }


def _fit_served(train: list[Query], models: dict[str, Logistic]) -> tuple[Fitted, str]:
    """The keyword-gated convex fusion, its Platt map and one no_match bar per mode."""
    arrays = _fusion.precompute(train, models["keyword"], models["vector"])
    fusion, _ = _fusion.choose(arrays)
    model = calibration.ModelCalibration(
        models["keyword"], models["vector"], fusion.alpha, IDENTITY, 0.0,
        fusion.weak_alpha, fusion.keyword_gate,
    )  # fmt: skip
    model = msgspec.structs.replace(model, hybrid=fit_mixture(train, model))
    thresholds = {mode: choose_threshold(train, model, mode) for mode in MODES}
    fitted = msgspec.structs.replace(
        model,
        no_match_threshold=thresholds["hybrid"],
        no_match_thresholds=thresholds,
        query_no_match=_no_match.fit(train, model),
    )
    name = f"gated a={fusion.alpha} weak={fusion.weak_alpha} gate={fusion.keyword_gate} (served)"
    return fitted, name


def fit_all(queries: list[Query]) -> tuple[calibration.ModelCalibration, dict[str, Any]]:
    train = [q for q in queries if q.train]
    held = [q for q in queries if not q.train]
    models = {arm: fit_logistic(train, arm) for arm in ("keyword", "vector", "joint")}
    strategies = _strategies(train, models)
    fitted, served = _fit_served(train, models)
    strategies[served] = logistic_mixed(fitted)
    rule = fitted.query_no_match
    assert rule is not None
    recipes = sorted({q.recipe for q in held})
    summary = {
        "train_queries": len(train),
        "held_out_queries": len(held),
        "fusion_held_out": {name: metrics(held, r) for name, r in strategies.items()},
        "fusion_held_out_by_recipe": {
            recipe: {
                name: metrics([q for q in held if q.recipe == recipe], r)
                for name, r in strategies.items()
            }
            for recipe in recipes
        },
        "no_match_thresholds": fitted.no_match_thresholds,
        "no_match_held_out": {
            mode: no_match(held, fitted, fitted.threshold(mode), mode) for mode in MODES
        },
        "no_match_held_out_by_recipe": {
            recipe: {
                mode: no_match(
                    [q for q in held if q.recipe == recipe], fitted, fitted.threshold(mode), mode
                )
                for mode in MODES
            }
            for recipe in recipes
        },
        "query_no_match": msgspec.to_builtins(rule),
        "query_no_match_held_out": _no_match.report(held, fitted, rule),
        "calibration_held_out": reliability(held, fitted),
    }
    return fitted, summary


def _table(title: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}:\n| ranking | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    for name, m in table.items():
        print(f"| {name} | {m['R@1']} | {m['R@5']} | {m['R@10']} | {m['MRR@10']} |")


def print_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['train_queries']} training, {summary['held_out_queries']} held-out queries")
    _table("held out, all recipes", summary["fusion_held_out"])
    for recipe, table in summary["fusion_held_out_by_recipe"].items():
        _table(f"held out, {recipe}", table)
    print(f"\nno_match thresholds (chosen on training): {summary['no_match_thresholds']}")
    print("| recipe | mode | no-answer share empty | R@10 cost, points |\n|---|---|---|---|")
    rows = {"all": summary["no_match_held_out"], **summary["no_match_held_out_by_recipe"]}
    for recipe, modes in rows.items():
        for mode, n in modes.items():
            share, cost = n["no_answer_share_empty"], n["recall10_cost_points"]
            print(f"| {recipe} | {mode} | {share} | {cost} |")
    print(f"\nhybrid's query-level no_match (rich recipes): {summary['query_no_match']}")
    print("| recipe | no-answer share empty | R@10 cost, points |\n|---|---|---|")
    for recipe, n in summary["query_no_match_held_out"].items():
        print(f"| {recipe} | {n['no_answer_share_empty']} | {n['recall10_cost_points']} |")
    cal = summary["calibration_held_out"]
    print(f"\nheld-out Brier {cal['brier']} (base rate alone {cal['brier_base_rate']})")
    print("| bin | n | mean predicted | observed |\n|---|---|---|---|")
    for row in cal["bins"]:
        print(f"| {row['bin']} | {row['n']} | {row['mean_predicted']} | {row['observed']} |")
