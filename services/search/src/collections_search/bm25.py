"""Okapi BM25 over the per-tenant statistics of migration 0007, with prefix and typo expansion.

The query is tokenised with the configurations the documents were (``english`` stems and
``simple`` words), so a term matches exactly what the tsvector holds. Each query term adds
``weight * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl))`` with Lucene's
non-negative ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``. Expansions weigh less than the
words typed, so an exact match outranks a guess:

- prefix: a query word of at least ``PREFIX_MIN_CHARS`` also matches the tenant's vocabulary
  terms it begins (the ``PREFIX_EXPANSIONS`` most frequent of the first ``PREFIX_SCAN`` in
  byte order), weight ``PREFIX_WEIGHT``;
- typo: a word of at least ``TYPO_MIN_CHARS`` that is no stopword, whose lexemes are not in the
  vocabulary and that begins no term is replaced by the ``TYPO_EXPANSIONS`` most similar terms
  (pg_trgm similarity at least the threshold), each weighted by its similarity.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from collections_shared.db import Connection

PREFIX_MIN_CHARS = 3
PREFIX_EXPANSIONS = 5
PREFIX_SCAN = 50
PREFIX_WEIGHT = 0.5
TYPO_MIN_CHARS = 4
TYPO_EXPANSIONS = 3


class Bm25(msgspec.Struct, frozen=True, kw_only=True):
    """Ranking parameters (Robertson & Zaragoza 2009 defaults)."""

    k1: float = 1.2
    b: float = 0.75
    typo_similarity: float = 0.3


# $1 user, $2 query, $3 k1, $4 b; the caller appends filter parameters and the limit.
_TERMS = f"""
words AS (
    SELECT DISTINCT w.lexeme AS word,
           ARRAY(SELECT e.lexeme FROM unnest(to_tsvector('english', w.lexeme)) e) AS stems
      FROM unnest(to_tsvector('simple', $2)) w
),
exact AS (
    SELECT lexeme AS term, 1.0::float8 AS weight FROM unnest(to_tsvector('english', $2))
    UNION ALL SELECT word, 1.0 FROM words
),
prefixed AS (
    SELECT w.word, p.term, {PREFIX_WEIGHT}::float8 AS weight
      FROM words w CROSS JOIN LATERAL (
           SELECT c.term FROM (
                  -- A range in byte order, which the text_pattern_ops index serves (LIKE with
                  -- a pattern that is not a constant would scan the tenant's vocabulary); the
                  -- first PREFIX_SCAN terms in that order bound the work for a short prefix.
                  SELECT v.term, v.df FROM search_vocabulary v
                   WHERE v.user_id = $1 AND v.term ~>~ w.word
                     AND v.term ~<~ (w.word || chr(1114111))
                     AND length(w.word) >= {PREFIX_MIN_CHARS}
                   ORDER BY v.term USING ~<~ LIMIT {PREFIX_SCAN}) c
            ORDER BY c.df DESC, c.term LIMIT {PREFIX_EXPANSIONS}) p
),
missing AS (
    SELECT w.word FROM words w
     WHERE length(w.word) >= {TYPO_MIN_CHARS} AND cardinality(w.stems) > 0
       AND NOT EXISTS (SELECT 1 FROM unnest(w.stems || w.word) x(term)
                         JOIN search_vocabulary v ON v.user_id = $1 AND v.term = x.term)
       AND NOT EXISTS (SELECT 1 FROM prefixed p WHERE p.word = w.word)
),
corrected AS (
    SELECT c.term, c.similarity AS weight
      FROM missing m CROSS JOIN LATERAL (
           SELECT v.term, similarity(v.term, m.word)::float8 AS similarity
             FROM search_vocabulary v
            WHERE v.term % m.word AND v.user_id = $1
            ORDER BY 2 DESC, v.term LIMIT {TYPO_EXPANSIONS}) c
),
terms AS (
    SELECT term, max(weight) AS weight
      FROM (SELECT * FROM exact UNION ALL SELECT term, weight FROM prefixed
            UNION ALL SELECT * FROM corrected) t
     GROUP BY term
),
stats AS (
    SELECT docs, total_length / docs AS avgdl FROM search_stats WHERE user_id = $1 AND docs > 0
),
weighted AS (
    SELECT t.term, t.weight * ln(1 + (s.docs - v.df + 0.5) / (v.df + 0.5)) AS idf
      FROM terms t
      JOIN search_vocabulary v ON v.user_id = $1 AND v.term = t.term
     CROSS JOIN stats s
),
scored AS (
    SELECT st.item_id,
           sum(w.idf * st.tf * ($3::float8 + 1)
               / (st.tf + $3::float8 * (1 - $4::float8 + $4::float8 * st.doc_length / s.avgdl)))
               AS score
      FROM weighted w
      JOIN search_terms st ON st.user_id = $1 AND st.term = w.term
     CROSS JOIN stats s
     GROUP BY st.item_id
)"""


async def search(
    connection: Connection,
    params: Bm25,
    *,
    where: str,
    values: list[Any],
    limit_param: str,
    unfiltered: bool,
) -> list[tuple[uuid.UUID, float]]:
    """Items by BM25 score, best first; ``where`` is the shared filter SQL over ``i`` and ``a``.

    ``values`` must start with the user id, the query, k1 and b (``$1`` to ``$4``).
    """
    # The trigram operator reads its threshold from the session; SET LOCAL ends with the query's
    # transaction.
    await connection.execute(
        "SELECT set_config('pg_trgm.similarity_threshold', $1, true)", str(params.typo_similarity)
    )
    # Unfiltered, the best ``limit`` are known before any join: every search_terms row is an
    # item's latest analysis, so the joins only order ties, and skipping them for the rest of
    # the matches is most of the work on a big tenant.
    scored = f"(SELECT * FROM scored ORDER BY score DESC, item_id LIMIT {limit_param})"
    rows = await connection.fetch(
        f"""WITH {_TERMS}
            SELECT i.id, sc.score
              FROM {scored if unfiltered else "scored"} sc
              JOIN items i ON i.id = sc.item_id
              JOIN analyses a ON a.id = i.latest_analysis_id
             WHERE {where}
             ORDER BY sc.score DESC, i.created_at DESC
             LIMIT {limit_param}""",
        *values,
    )
    return [(row["id"], float(row["score"])) for row in rows]
