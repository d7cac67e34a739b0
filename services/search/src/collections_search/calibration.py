"""Calibrated relevance: per-arm evidence → a logistic model → ``score`` ≈ P(relevant).

The coefficients live in ``calibration.json`` next to this module, keyed by embedding model,
because cosine similarities of different models live on different scales. A model without
fitted coefficients uses the file's ``default`` entry (fitted for the local model; a documented
fallback, not a promise of calibration). ``python -m bench calibrate`` re-fits and rewrites the
file from the golden set; the service only loads it. Fitting lives in ``bench/calibrate.py``.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import msgspec

Arm = Literal["keyword", "vector", "hybrid"]
COEFFICIENTS = Path(__file__).with_name("calibration.json")
_KEYWORD_FEATURES = ("keyword_raw", "keyword_rr")
_VECTOR_FEATURES = ("similarity", "vector_rr", "similarity_gap")
FEATURES: dict[Arm, tuple[str, ...]] = {
    "keyword": _KEYWORD_FEATURES,
    "vector": _VECTOR_FEATURES,
    "hybrid": _KEYWORD_FEATURES + _VECTOR_FEATURES,
}
"""Which features each mode's model reads; every feature is 0 when its arm did not find the
item. Hybrid's one model over both arms' features has no term of its own for "found by both":
fitted, it came out negative (a weak keyword match then scored below none at all), and without
it the out-of-fold ranking was the same (docs/search.md)."""


class Logistic(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    intercept: float
    weights: dict[str, float]

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        # Clamp so an extreme raw score cannot overflow exp(); 30 is p = 1 - 1e-13.
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))


class QueryNoMatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Whether a hybrid query found anything at all, from its best evidence in each arm.

    A logistic over ``top_keyword`` (the best keyword score, log-compressed) and
    ``top_similarity`` (the best cosine similarity): P(the collection holds a relevant item).
    Fitted on collections whose analyses are rich text (a vision model's, an import's, a
    user's); it is not applied to results the offline analyzer described, whose sparse text
    gives a relevant photo no more evidence than an unrelated one (docs/search.md).
    """

    logistic: Logistic
    threshold: float
    """Below this probability the query matches nothing."""
    min_items: int
    """Fewer vector candidates (a smaller collection) and the model is not applied: BM25's
    IDF shrinks in a small collection, below the scores it was fitted on."""
    similarity_guard: float = 1.0
    """A best similarity at or above this is a match whatever the keywords say (a query in
    other words than the analysis: the model leans on shared words, which golden captions of
    one photo mostly have); fitted as the highest any training no-answer query reached."""

    def nothing_matches(self, found: list[Candidate]) -> bool:
        similarities = [c.similarity for c in found if c.similarity is not None]
        if len(similarities) < self.min_items or max(similarities) >= self.similarity_guard:
            return False
        best_keyword = top_keyword(found) or 0.0
        values = {
            "top_keyword": math.log1p(max(best_keyword, 0.0)),
            "top_similarity": max(similarities),
        }
        return self.logistic.probability(values) < self.threshold


class ModelCalibration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    keyword: Logistic
    """P(relevant) from the keyword arm's evidence alone (keyword mode)."""
    vector: Logistic
    """P(relevant) from the vector arm's evidence alone (vector mode)."""
    hybrid: Logistic
    """P(relevant) from both arms' evidence at once (hybrid mode): one logistic over
    ``FEATURES["hybrid"]``, so the fusion and its calibration are the same fitted model."""
    no_match_threshold: float
    """A default search whose best calibrated score is below this returns ``no_match``."""
    no_match_thresholds: dict[str, float] = msgspec.field(default_factory=dict)
    """Per mode (``keyword``, ``vector``, ``hybrid``): each mode's scores live on its own scale;
    a mode missing here uses ``no_match_threshold``."""
    query_no_match: QueryNoMatch | None = None
    """Hybrid's query-level "nothing matches" (``None``: only the per-result bar)."""

    def scorer(self, mode: str) -> Callable[[dict[str, float]], float]:
        """The calibrated score of one candidate's features in ``mode``."""
        if mode in ("keyword", "bm25"):
            return self.keyword.probability
        if mode == "vector":
            return self.vector.probability
        return self.hybrid.probability

    def threshold(self, mode: str) -> float:
        """The ``no_match`` bar for ``mode``'s scores."""
        key = "keyword" if mode == "bm25" else mode
        return self.no_match_thresholds.get(key, self.no_match_threshold)


class CalibrationFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: int
    default: ModelCalibration
    models: dict[str, ModelCalibration] = msgspec.field(default_factory=dict)
    fitted: dict[str, str] = msgspec.field(default_factory=dict)
    """Provenance: what the coefficients were fitted on, and when."""

    def for_model(self, model: str) -> ModelCalibration:
        return self.models.get(model, self.default)


@functools.cache
def load(path: Path = COEFFICIENTS) -> CalibrationFile:
    return msgspec.json.decode(path.read_bytes(), type=CalibrationFile)


class Candidate(msgspec.Struct, frozen=True):
    """One item's evidence from both arms (``None``: that arm did not return it)."""

    item_id: uuid.UUID
    keyword_raw: float | None = None
    keyword_rank: int | None = None
    similarity: float | None = None
    vector_rank: int | None = None


def candidates(
    keyword: list[tuple[uuid.UUID, float]], vector: list[tuple[uuid.UUID, float]]
) -> list[Candidate]:
    """Join the arms' ranked lists (best first) into one candidate per item."""
    found: dict[uuid.UUID, dict[str, float | int]] = {}
    for rank, (item, raw) in enumerate(keyword, start=1):
        found.setdefault(item, {}).update(keyword_raw=raw, keyword_rank=rank)
    for rank, (item, similarity) in enumerate(vector, start=1):
        found.setdefault(item, {}).update(similarity=similarity, vector_rank=rank)
    return [Candidate(item, **values) for item, values in found.items()]  # type: ignore[arg-type]


def features(
    candidate: Candidate, top_similarity: float | None, top_keyword: float | None = None
) -> dict[str, float]:
    """The model's inputs. ``keyword_raw`` is log-compressed so an unbounded BM25 score and a
    small ``ts_rank_cd`` both fit one linear term; ``similarity_gap`` is how far the item is
    from the query's best vector match (how strongly the vector arm singled it out);
    ``top_keyword`` (the query's best compressed keyword score) says how well the query's words
    matched anything at all."""
    values: dict[str, float] = {"top_keyword": math.log1p(max(top_keyword or 0.0, 0.0))}
    if candidate.keyword_raw is not None and candidate.keyword_rank is not None:
        values["keyword_raw"] = math.log1p(max(candidate.keyword_raw, 0.0))
        values["keyword_rr"] = 1.0 / candidate.keyword_rank
    if candidate.similarity is not None and candidate.vector_rank is not None:
        values["similarity"] = candidate.similarity
        values["vector_rr"] = 1.0 / candidate.vector_rank
        values["similarity_gap"] = (top_similarity or candidate.similarity) - candidate.similarity
    return values


def top_similarity(found: list[Candidate]) -> float | None:
    similarities = [c.similarity for c in found if c.similarity is not None]
    return max(similarities) if similarities else None


def top_keyword(found: list[Candidate]) -> float | None:
    raw = [c.keyword_raw for c in found if c.keyword_raw is not None]
    return max(raw) if raw else None


def score(
    found: list[Candidate], scorer: Callable[[dict[str, float]], float]
) -> list[tuple[Candidate, float]]:
    """Every candidate with its calibrated probability, best first."""
    top, best_keyword = top_similarity(found), top_keyword(found)
    scored = [(c, scorer(features(c, top, best_keyword))) for c in found]
    return sorted(scored, key=lambda pair: pair[1], reverse=True)
