"""Two-fold cross-validation by photo for ``bench/calibrate.py``: choose, fit and report.

The two halves (queries about even- and odd-numbered photos, even and odd no-answer lines) take
turns: everything is fitted on one and scored on the other, and the two scored halves pooled are
what is reported, so every query is held out exactly once ("out of fold"). Hybrid's ridge
(``_fit.HYBRID_CONFIGS``) is the one whose out-of-fold worst margin over the better arm, per
recipe on MRR@10 and R@10, is largest (then pooled MRR@10); that choice is made on the pooled
out-of-fold numbers, so for it they are not an independent test. The served coefficients are
fitted on all queries with the chosen ridge.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import msgspec

from bench import _fit, _no_match
from bench._fit import Fitted, HybridConfig, Query, Ranker

T = TypeVar("T")


def _halves(queries: list[Query]) -> dict[bool, list[Query]]:
    """By a query's ``train`` flag: the half its models are fitted on (the other one)."""
    return {in_train: [q for q in queries if q.train != in_train] for in_train in (True, False)}


def _out_of_fold(queries: list[Query], fit: Callable[[list[Query]], T]) -> Callable[[Query], T]:
    """What was fitted on the half a query is not in, for each query."""
    by_half = {in_train: fit(half) for in_train, half in _halves(queries).items()}
    return lambda query: by_half[query.train]


def _mode_ranker(of: Callable[[Query], Fitted], mode: str) -> Ranker:
    def rank(query: Query) -> list[Any]:
        return _fit.ranker(of(query).scorer(mode), mode)(query)

    return rank


def _recipes(queries: list[Query]) -> list[str]:
    return sorted({q.recipe for q in queries})


def margin(queries: list[Query], of: Callable[[Query], Fitted]) -> tuple[float, float]:
    """(worst recipe's margin of hybrid over its better arm on MRR@10 and R@10, pooled MRR)."""
    worst = float("inf")
    for recipe in _recipes(queries):
        part = [q for q in queries if q.recipe == recipe]
        scores = {mode: _fit.metrics(part, _mode_ranker(of, mode)) for mode in _fit.MODES}
        for measure in ("MRR@10", "R@10"):
            better = max(scores["keyword"][measure], scores["vector"][measure])
            worst = min(worst, scores["hybrid"][measure] - better)
    return round(worst, 4), _fit.metrics(queries, _mode_ranker(of, "hybrid"))["MRR@10"]


def choose(queries: list[Query]) -> tuple[HybridConfig, dict[str, tuple[float, float]]]:
    scored = {
        config: margin(queries, _out_of_fold(queries, partial(_fit.fit_rankings, config=config)))
        for config in _fit.HYBRID_CONFIGS
    }
    best = max(scored, key=lambda config: scored[config])
    return best, {config.name: scored[config] for config in _fit.HYBRID_CONFIGS}


def _paraphrases(queries: list[Query], of: Callable[[Query], Fitted]) -> dict[str, Any]:
    """Per recipe: how often a paraphrase finds its photo in hybrid's top 10, and how often the
    query-level rule calls it nothing (the rule's false alarms on words the analysis lacks)."""
    out: dict[str, Any] = {}
    for recipe in _recipes(queries):
        rows = [_no_match.Row(q, of(q)) for q in queries if q.recipe == recipe]
        called: float | None = None  # the service does not apply the rule to offline analyses
        if recipe != _no_match.OFFLINE_RECIPE:
            called = sum(_no_match.judged(row, of(row.query)) for row in rows) / len(rows)
        out[recipe] = {
            "queries": len(rows),
            "R@10": round(sum(row.hit for row in rows) / len(rows), 4),
            "called_nothing": None if called is None else round(called, 4),
        }
    return out


def fit_all(queries: list[Query]) -> tuple[Fitted, dict[str, Any]]:
    """Rankings are fitted and compared on the caption queries; the no-match bars and rule
    are fitted and measured on every query, paraphrases among the answerable ones."""
    paraphrases = [q for q in queries if q.paraphrase]
    captions = [q for q in queries if not q.paraphrase]
    config, grid = choose(captions)
    served = _fit.fit_model(queries, config)
    halves = _halves(queries)
    models = {in_train: _fit.fit_model(half, config) for in_train, half in halves.items()}
    strategies = {
        in_train: _fit.strategies(
            [q for q in half if not q.paraphrase], models[in_train], config.name
        )
        for in_train, half in halves.items()
    }

    def of(query: Query) -> Fitted:
        return models[query.train]

    def rankers(query: Query) -> dict[str, Ranker]:
        return strategies[query.train]

    names = list(strategies[True])

    def oof(name: str) -> Ranker:
        return lambda query: rankers(query)[name](query)

    def table(part: list[Query]) -> dict[str, dict[str, float]]:
        return {name: _fit.metrics(part, oof(name)) for name in names}

    recipes = _recipes(queries)
    by_recipe = {r: [q for q in captions if q.recipe == r] for r in recipes}
    asked = {"all": queries, **{r: [q for q in queries if q.recipe == r] for r in recipes}}
    summary = {
        "queries": len(captions),
        "paraphrases": len(paraphrases),
        "hybrid_config": config.name,
        "hybrid_grid_out_of_fold": grid,
        "fusion_out_of_fold": table(captions),
        "fusion_out_of_fold_by_recipe": {r: table(part) for r, part in by_recipe.items()},
        "no_match_thresholds": served.no_match_thresholds,
        "no_match_out_of_fold": {
            recipe: {mode: _fit.no_match(part, of, mode) for mode in _fit.MODES}
            for recipe, part in asked.items()
        },
        "query_no_match": msgspec.to_builtins(served.query_no_match),
        "query_no_match_out_of_fold": _no_match.report(queries, of),
        "query_no_match_captions_only": _no_match.report(captions, of),
        "calibration_out_of_fold": _fit.reliability(captions, of),
        "paraphrases_out_of_fold": _paraphrases(paraphrases, of) if paraphrases else {},
    }
    return served, summary


def _table(title: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}:\n| ranking | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    for name, m in table.items():
        print(f"| {name} | {m['R@1']} | {m['R@5']} | {m['R@10']} | {m['MRR@10']} |")


def print_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['queries']} queries, two folds by photo; every number is out of fold")
    print("\nhybrid configurations (worst margin over the better arm, pooled MRR@10):")
    for name, (worst, mrr) in summary["hybrid_grid_out_of_fold"].items():
        print(f"| {name} | {worst} | {mrr} |")
    print(f"chosen: {summary['hybrid_config']}")
    _table("all recipes", summary["fusion_out_of_fold"])
    for recipe, table in summary["fusion_out_of_fold_by_recipe"].items():
        _table(recipe, table)
    print(f"\nno_match bars (fitted on all queries): {summary['no_match_thresholds']}")
    print("| recipe | mode | no-answer share empty | R@10 cost, points |\n|---|---|---|---|")
    for recipe, modes in summary["no_match_out_of_fold"].items():
        for mode, n in modes.items():
            share, cost = n["no_answer_share_empty"], n["recall10_cost_points"]
            print(f"| {recipe} | {mode} | {share} | {cost} |")
    print(f"\nhybrid's query-level no_match (rich recipes): {summary['query_no_match']}")
    print("| recipe | no-answer share empty | R@10 cost, points (captions only) |\n|---|---|---|")
    for recipe, n in summary["query_no_match_out_of_fold"].items():
        alone = summary["query_no_match_captions_only"][recipe]["recall10_cost_points"]
        share, cost = n["no_answer_share_empty"], n["recall10_cost_points"]
        print(f"| {recipe} | {share} | {cost} ({alone}) |")
    print("\nparaphrases (no word shared with the photo's captions; in the no-match fits only):")
    print("| recipe | queries | R@10 | called nothing by the query-level rule |\n|---|---|---|---|")
    for recipe, n in summary["paraphrases_out_of_fold"].items():
        called = "not applied" if n["called_nothing"] is None else n["called_nothing"]
        print(f"| {recipe} | {n['queries']} | {n['R@10']} | {called} |")
    cal = summary["calibration_out_of_fold"]
    print(f"\nBrier {cal['brier']} (base rate alone {cal['brier_base_rate']})")
    print("| bin | n | mean predicted | observed |\n|---|---|---|---|")
    for row in cal["bins"]:
        print(f"| {row['bin']} | {row['n']} | {row['mean_predicted']} | {row['observed']} |")
