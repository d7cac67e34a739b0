"""The BM25 keyword arm: ranking, statistics kept in step by the writes, expansion, isolation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_search.repository import keyword
from collections_shared.db import create_pool, tenant_transaction
from collections_shared.domain.search import Filters

Owner = asyncpg.Connection  # type: ignore[type-arg]


@pytest.fixture(name="owner")
async def fx_owner(database: DatabaseUnderTest) -> AsyncIterator[Owner]:
    connection = await asyncpg.connect(database.owner_dsn)
    try:
        yield connection
    finally:
        await connection.close()


async def _analyse(
    owner: Owner,
    item_id: uuid.UUID,
    user_id: str,
    version: int,
    summary: str,
    *,
    places: str = "",
) -> uuid.UUID:
    analysis_id = uuid.uuid4()
    await owner.execute(
        """INSERT INTO analyses (id, item_id, user_id, version, source_event_id, provider, model,
               prompt_version, category, summary, description, tags, objects, visible_text,
               colors, setting, data, places)
           VALUES ($1, $2, $3, $4, $5, 'local', 'm', 'p', 'other', $6, '', '{}', '{}', '',
                   '{}', '', '{}', $7)""",
        analysis_id, item_id, user_id, version, uuid.uuid4(), summary, [places] if places else [],
    )  # fmt: skip
    await owner.execute(
        "UPDATE items SET latest_analysis_id = $2 WHERE id = $1", item_id, analysis_id
    )
    return analysis_id


async def _item(owner: Owner, user_id: str, summary: str, places: str = "") -> uuid.UUID:
    item_id = uuid.uuid4()
    await owner.execute(
        "INSERT INTO items (id, user_id, status, original_key) VALUES ($1, $2, 'searchable', 'k')",
        item_id,
        user_id,
    )
    await _analyse(owner, item_id, user_id, 1, summary, places=places)
    return item_id


async def _search(database: DatabaseUnderTest, user_id: str, query: str) -> list[uuid.UUID]:
    pool = await create_pool(database.app_dsn, max_size=1)
    try:
        async with tenant_transaction(pool, user_id) as connection:
            hits = await keyword(connection, user_id, query, Filters(), 10)
    finally:
        await pool.close()
    return [item_id for item_id, _ in hits]


async def _stored(owner: Owner) -> tuple[set[tuple[object, ...]], ...]:
    vocabulary = await owner.fetch("SELECT user_id, term, df FROM search_vocabulary")
    stats = await owner.fetch("SELECT user_id, docs, total_length FROM search_stats")
    terms = await owner.fetch("SELECT item_id, term, tf, doc_length FROM search_terms")
    return tuple({tuple(row.values()) for row in rows} for rows in (vocabulary, stats, terms))


async def _recount(owner: Owner) -> tuple[set[tuple[object, ...]], ...]:
    """The statistics computed from scratch from every item's latest analysis."""
    terms = await owner.fetch(
        """SELECT i.id, d.term, d.tf, (sum(d.tf) OVER (PARTITION BY i.id))::real, i.user_id
             FROM items i CROSS JOIN LATERAL collections_bm25_terms(i.latest_analysis_id) d"""
    )
    term_rows = {tuple(row.values())[:4] for row in terms}
    df: dict[tuple[str, str], int] = {}
    docs: dict[str, dict[uuid.UUID, float]] = {}
    for item_id, term, tf, _, user_id in (tuple(row.values()) for row in terms):
        df[(user_id, term)] = df.get((user_id, term), 0) + 1
        docs.setdefault(user_id, {})[item_id] = docs.get(user_id, {}).get(item_id, 0.0) + tf
    stats = {(user, len(lengths), sum(lengths.values())) for user, lengths in docs.items()}
    return {(u, t, n) for (u, t), n in df.items()}, stats, term_rows


async def test_rare_term_outranks_common_term(database: DatabaseUnderTest, owner: Owner) -> None:
    """Of two one-word matches, the item holding the rarer term ranks first (IDF)."""
    rare = await _item(owner, "u", "A lighthouse on a rock.")
    common = await _item(owner, "u", "A boat on a rock.")
    for _ in range(5):
        await _item(owner, "u", "A boat in a harbour.")
    assert (await _search(database, "u", "lighthouse boat"))[0] == rare
    assert common in await _search(database, "u", "lighthouse boat")


async def test_shorter_document_ranks_first(database: DatabaseUnderTest, owner: Owner) -> None:
    """With the same term frequency, the shorter document wins (length normalisation)."""
    long = await _item(owner, "u", "A kite above the dunes with sand, grass, fences and sky.")
    short = await _item(owner, "u", "A kite.")
    await _item(owner, "u", "A cat.")
    assert await _search(database, "u", "kite") == [short, long]


async def test_statistics_equal_recount_after_insert_reanalysis_and_delete(
    database: DatabaseUnderTest, owner: Owner
) -> None:
    """Insert, a new latest version, item delete and delete-all keep df and lengths exact."""
    first = await _item(owner, "u", "A red tram in Fukuoka.", "Fukuoka")
    second = await _item(owner, "u", "A tram stop at night.")
    await _item(owner, "other", "A tram in the rain.")
    assert await _stored(owner) == await _recount(owner)
    await _analyse(owner, first, "u", 2, "A ferry leaving the harbour.")
    assert await _stored(owner) == await _recount(owner)
    assert await _search(database, "u", "tram") == [second]
    await owner.execute("DELETE FROM items WHERE id = $1", second)
    assert await _stored(owner) == await _recount(owner)
    await owner.execute("DELETE FROM items WHERE user_id = 'u'")
    vocabulary, stats, _ = await _stored(owner)
    assert {row[0] for row in vocabulary | stats} == {"other"}


async def test_prefix_matches_a_partial_last_word(
    database: DatabaseUnderTest, owner: Owner
) -> None:
    """A partial word ("lighth") finds the item whose vocabulary holds a term it begins."""
    lighthouse = await _item(owner, "u", "A lighthouse at dusk.")
    await _item(owner, "u", "A light bulb.")
    assert await _search(database, "u", "lighth") == [lighthouse]


async def test_misspelt_place_is_found(database: DatabaseUnderTest, owner: Owner) -> None:
    """A misspelt "fukouka", absent from the vocabulary, is read as the similar "fukuoka"."""
    fukuoka = await _item(owner, "u", "Ramen stalls by the river.", "Fukuoka")
    await _item(owner, "u", "A temple in Kyoto.", "Kyoto")
    assert await _search(database, "u", "fukouka") == [fukuoka]
    assert await _search(database, "u", "xqzvw") == []


async def test_other_tenants_change_neither_scores_nor_results(
    database: DatabaseUnderTest, owner: Owner
) -> None:
    """Another tenant's documents leave your df and scores alone and never appear in results."""
    mine = await _item(owner, "alice", "A heron in the reeds.")
    await _item(owner, "alice", "A duck in the reeds.")
    pool = await create_pool(database.app_dsn, max_size=1)
    try:

        async def scores() -> list[tuple[uuid.UUID, float]]:
            async with tenant_transaction(pool, "alice") as connection:
                return await keyword(connection, "alice", "heron reeds", Filters(), 10)

        before = await scores()
        theirs = {await _item(owner, "bob", f"A heron, number {n}.") for n in range(4)}
        after = await scores()
        async with tenant_transaction(pool, "alice") as connection:
            visible = await connection.fetch("SELECT user_id FROM search_vocabulary")
    finally:
        await pool.close()
    assert before == after
    assert before[0][0] == mine
    assert not theirs & {item_id for item_id, _ in after}
    assert {row["user_id"] for row in visible} == {"alice"}
