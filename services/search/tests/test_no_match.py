"""Calibrated scores over the API: "nothing matches", ``min_score`` and ``explain``."""

from __future__ import annotations

from typing import Any

from collections_devtools.fakes.anthropic import FakeAnthropic

# Fixtures (conftest.py): the app factories, the item writer and users.
SearchApp = Collection = User = Any

PHOTOS = (
    ("A lighthouse on a rocky coast at dusk.", ("lighthouse", "coast", "dusk")),
    ("A bowl of ramen noodles with chopsticks.", ("ramen", "noodles", "bowl")),
    ("A red tractor in a wheat field.", ("tractor", "wheat", "field")),
    ("A cat asleep on a windowsill.", ("cat", "window")),
)


async def _collection(collection: Collection, user: User) -> list[str]:
    return [await collection.add(user, summary, tags=tags) for summary, tags in PHOTOS]


async def _search(client: Any, user: User, query: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/search", json={"query": query, **body}, headers=user.headers)
    assert 200 == response.status_code, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_query_nothing_matches_returns_no_results_and_asks_no_llm(
    claude_app: SearchApp, collection: Collection, alice: User, anthropic_api: FakeAnthropic
) -> None:
    """A query none of whose words any photo has gets empty results and no_match in keyword
    mode, and no answer is written (nor the LLM asked). (The hybrid bar, fitted with the offline
    analyzer's weak analyses in the pool, rarely fires: docs/search.md.)"""
    await _collection(collection, alice)

    async with claude_app() as client:
        body = await _search(
            client, alice, "an astronaut floating in space", mode="keyword", answer=True
        )

    assert ([], True) == (body["results"], body["no_match"])
    assert (None, "no_results", 0) == (
        body["answer"],
        body["answer_unavailable"],
        body["llm_calls"],
    )
    assert [] == anthropic_api.requests


async def test_the_one_photo_with_the_word_is_found_in_a_one_photo_library(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """Keyword mode never hides a result that has the query's word: in a library of one photo
    BM25's IDF is tiny, and a bar fitted on the golden set would call it nothing."""
    item_id = await collection.add(alice, "Sunset over Rottnest island.", tags=("rottnest",))

    async with search_app() as client:
        for mode in ("keyword", "bm25"):
            body = await _search(client, alice, "rottnest", mode=mode)
            assert (False, [item_id]) == (
                body["no_match"],
                [result["item_id"] for result in body["results"]],
            ), mode


async def test_a_matching_query_ranks_its_photo_first_with_a_high_score(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """A query about one photo finds it first, well above the no_match threshold."""
    ids = await _collection(collection, alice)

    async with search_app() as client:
        body = await _search(client, alice, "lighthouse on the coast")

    assert body["no_match"] is False
    assert ids[0] == body["results"][0]["item_id"]
    assert body["results"][0]["score"] > 0.5
    assert all(0 <= result["score"] <= 1 for result in body["results"])


async def test_min_score_filters_the_calibrated_scores(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """min_score keeps exactly the results whose calibrated score reaches it, in every mode."""
    await _collection(collection, alice)

    async with search_app() as client:
        for mode in ("keyword", "vector", "hybrid"):
            every = await _search(client, alice, "a bowl of noodles", mode=mode, min_score=0.0001)
            bar = sorted(result["score"] for result in every["results"])[-1]
            kept = await _search(client, alice, "a bowl of noodles", mode=mode, min_score=bar)
            expected = [r["item_id"] for r in every["results"] if r["score"] >= bar]
            assert expected == [r["item_id"] for r in kept["results"]], mode
            assert len(expected) < len(every["results"]) or len(every["results"]) == 1, mode


async def test_explain_returns_per_arm_ranks_and_scores_only_when_asked(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """explain adds ranks, raw and calibrated scores per result; without it the key is absent."""
    ids = await _collection(collection, alice)

    async with search_app() as client:
        plain = await _search(client, alice, "red tractor wheat")
        explained = await _search(client, alice, "red tractor wheat", explain=True)

    assert all("explain" not in result for result in plain["results"])
    top = explained["results"][0]
    assert ids[2] == top["item_id"]
    assert 1 == top["explain"]["keyword_rank"] == top["explain"]["vector_rank"]
    assert top["explain"]["keyword_raw"] == top["keyword_score"] > 0
    assert top["explain"]["vector_similarity"] == top["vector_score"]
    assert top["explain"]["calibrated"] == top["score"]


SUBJECTS = ("red tractor", "tabby cat", "wooden canoe", "brass trumpet", "yellow taxi",
            "stone bridge", "paper kite", "glass vase")  # fmt: skip
PLACES = ("wheat field", "kitchen table", "river bank", "city street", "garden path")


async def _described(collection: Collection, user: User, provider: str) -> dict[str, str]:
    """Forty photos, each a subject in a place, analysed by ``provider``; ids by summary."""
    ids = {}
    for subject in SUBJECTS:
        for place in PLACES:
            summary = f"A {subject} on a {place}."
            tags = (*subject.split(), *place.split())
            ids[summary] = await collection.add(user, summary, tags=tags, provider=provider)
    return ids


async def test_hybrid_says_nothing_matches_when_no_photo_a_model_described_is_relevant(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """Over forty photos a vision model described, the default search for something none of
    them shows returns no results and no_match, while a query about one of them finds it."""
    ids = await _described(collection, alice, "anthropic")

    async with search_app() as client:
        nothing = await _search(client, alice, "a volcano erupting at midnight")
        found = await _search(client, alice, "a red tractor on a wheat field")

    assert ([], True) == (nothing["results"], nothing["no_match"])
    assert found["no_match"] is False
    assert ids["A red tractor on a wheat field."] == found["results"][0]["item_id"]


async def test_hybrid_shows_results_for_weak_evidence_when_the_offline_analyzer_described_them(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """The same photos described by the offline analyzer: weak evidence proves nothing about
    its sparse text, so the search shows its best guesses; asking for them by min_score or in
    vector mode is the caller's choice and unchanged."""
    await _described(collection, alice, "local")

    async with search_app() as client:
        body = await _search(client, alice, "a volcano erupting at midnight")

    assert body["no_match"] is False
    assert len(body["results"]) > 0


async def test_hybrid_keeps_results_in_a_collection_smaller_than_the_rule_was_fitted_on(
    search_app: SearchApp, collection: Collection, alice: User
) -> None:
    """In a library of a few model-described photos BM25's IDF is too small for the fitted
    bar, so the query-level rule stays out of the way and the best guesses are shown."""
    for summary, tags in PHOTOS:
        await collection.add(alice, summary, tags=tags, provider="anthropic")

    async with search_app() as client:
        body = await _search(client, alice, "a volcano erupting at midnight")

    assert body["no_match"] is False
    assert len(body["results"]) > 0
