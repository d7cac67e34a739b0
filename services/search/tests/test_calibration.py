"""The calibration file and the scores it gives: loading, fallbacks, bounds and monotonicity."""

from __future__ import annotations

import math
import uuid

from collections_embeddings.local import MODEL
from collections_search import calibration


def test_the_shipped_file_has_the_local_model_and_a_default_for_others() -> None:
    """The local model has fitted coefficients; an unknown model falls back to the default."""
    loaded = calibration.load()

    assert MODEL in loaded.models
    assert loaded.default == loaded.for_model("voyage-3.5-lite")
    assert loaded.models[MODEL] == loaded.for_model(MODEL)
    assert 0 < loaded.for_model(MODEL).no_match_threshold < 1


def _one_query(mode: str, keyword_raw: list[float], similarity: list[float]) -> list[float]:
    """The scores of items 0..n-1 of one query, found by each arm in the order given."""
    fitted = calibration.load().for_model(MODEL)
    items = [uuid.uuid4() for _ in keyword_raw]
    found = calibration.candidates(
        list(zip(items, keyword_raw, strict=True)), list(zip(items, similarity, strict=True))
    )
    scores = dict(calibration.score(found, fitted.scorer(mode)))
    by_item = {candidate.item_id: score for candidate, score in scores.items()}
    return [by_item[item] for item in items]


def test_within_a_query_more_evidence_never_lowers_a_score() -> None:
    """Among one query's candidates an item with more keyword evidence or a closer vector never
    scores lower, in every mode, and every score is in [0, 1], even for unbounded BM25.

    (Across queries it can: hybrid's features include how far an item is from the query's best
    vector match.)"""
    raws = [1e6, 10.0, 1.0, 0.1, 0.0]
    sims = [1.0, 0.7, 0.4, 0.1, -0.2]
    series = [
        _one_query("keyword", raws, [0.5] * 5),
        _one_query("hybrid", raws, [0.5] * 5),
        _one_query("vector", [1.0] * 5, sims),
        _one_query("hybrid", [1.0] * 5, sims),
    ]
    for scores in series:
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= value <= 1.0 for value in scores)
    assert series[0][0] > series[0][-1]
    assert series[2][0] > series[2][-1]


def test_candidates_join_both_arms_with_their_ranks() -> None:
    """An item found by both arms is one candidate carrying both ranks and raw scores."""
    shared, keyword_only = uuid.uuid4(), uuid.uuid4()

    found = calibration.candidates([(keyword_only, 2.0), (shared, 1.0)], [(shared, 0.6)])

    by_id = {candidate.item_id: candidate for candidate in found}
    assert calibration.Candidate(shared, 1.0, 2, 0.6, 1) == by_id[shared]
    assert calibration.Candidate(keyword_only, 2.0, 1, None, None) == by_id[keyword_only]


def test_a_keyword_match_never_lowers_a_hybrid_score() -> None:
    """Two items equally close to the query: the one whose analysis also has the query's words,
    even weakly and far down the keyword ranking, scores at least as high in hybrid."""
    fitted = calibration.load().for_model(MODEL)
    matched, unmatched, best = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    keyword = [(best, 20.0), *[(uuid.uuid4(), 5.0) for _ in range(60)], (matched, 0.01)]
    vector = [(best, 0.8), (matched, 0.5), (unmatched, 0.5)]

    scores = {c.item_id: s for c, s in calibration.score(
        calibration.candidates(keyword, vector), fitted.scorer("hybrid")
    )}  # fmt: skip

    assert scores[matched] >= scores[unmatched]


def test_each_mode_has_its_own_no_match_bar_with_the_shared_one_as_fallback() -> None:
    """A mode listed in ``no_match_thresholds`` uses its bar; bm25 is keyword; others fall back."""
    logistic = calibration.Logistic(intercept=0.0, weights={})
    model = calibration.ModelCalibration(
        logistic, logistic, logistic, 0.1, no_match_thresholds={"vector": 0.3}
    )

    assert 0.3 == model.threshold("vector")
    assert 0.1 == model.threshold("keyword") == model.threshold("bm25") == model.threshold("hybrid")


def test_top_keyword_is_the_querys_best_compressed_keyword_score_on_every_candidate() -> None:
    """Every candidate of a query carries log1p of the best keyword score; none found: 0."""
    first, second = uuid.uuid4(), uuid.uuid4()
    found = calibration.candidates([(first, 3.0), (second, 1.0)], [(second, 0.4)])
    best = calibration.top_keyword(found)

    values = [calibration.features(c, 0.4, best)["top_keyword"] for c in found]
    assert values == [math.log1p(3.0)] * 2
    assert 0.0 == calibration.features(found[0], 0.4)["top_keyword"]


def _found(
    count: int, *, similarity: float, keyword_raw: float | None
) -> list[calibration.Candidate]:
    vector = [(uuid.uuid4(), similarity - n * 0.001) for n in range(count)]
    keyword = [(vector[0][0], keyword_raw)] if keyword_raw is not None else []
    return calibration.candidates(keyword, vector)


def test_the_query_level_rule_needs_weak_evidence_in_both_arms_and_a_big_enough_collection() -> (
    None
):
    """Hybrid's query-level no_match fires for a weak best similarity and no keyword match,
    not when either arm's best evidence is strong, and never in a collection below
    ``min_items``."""
    rule = calibration.load().for_model(MODEL).query_no_match
    assert rule is not None
    enough = rule.min_items

    assert rule.nothing_matches(_found(enough, similarity=0.2, keyword_raw=None))
    assert not rule.nothing_matches(_found(enough, similarity=0.95, keyword_raw=None))
    assert not rule.nothing_matches(_found(enough, similarity=0.2, keyword_raw=50.0))
    assert not rule.nothing_matches(_found(enough - 1, similarity=0.2, keyword_raw=None))
