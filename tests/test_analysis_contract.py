"""The analysis contract across stages: a v1 and a v2 analysis both decode, index and embed; the
fake Anthropic server's v2 answers validate against the tool schema the model is given."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import jsonschema
import pytest

from collections_devtools.fakes.anthropic import SAMPLE_ANALYSIS, SAMPLE_SCREENSHOT_ANALYSIS
from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_embeddings.document import embedding_document
from collections_embeddings.local import LocalEmbeddingProvider
from collections_shared.db import Pool, create_pool, tenant_transaction
from collections_shared.domain.analysis import Analysis, Provenance, analysis_json_schema
from collections_shared.domain.analysis_input import InvalidAnalysisError, normalize_analysis
from collections_shared.repository.analyses import insert_analysis, latest_version

USER = "contract-user"
V1 = {
    "category": "food",
    "summary": "A bowl of noodle soup on a wooden table.",
    "description": "Steaming noodles with an egg.",
    "tags": ["noodles", "soup"],
    "objects": ["bowl"],
    "text": "",
    "colors": ["brown"],
    "setting": "indoor restaurant",
}


@pytest.fixture(name="pool")
async def fx_pool(database: DatabaseUnderTest) -> AsyncIterator[Pool]:
    pool = await create_pool(database.app_dsn, max_size=2)
    yield pool
    await pool.close()


async def _stored(pool: Pool, analysis: Analysis) -> uuid.UUID:
    item_id = uuid.uuid4()
    async with tenant_transaction(pool, USER) as connection:
        await connection.execute(
            """INSERT INTO items (id, user_id, status, original_key)
               VALUES ($1, $2, 'processed', $3)""",
            item_id,
            USER,
            f"{USER}/images/{item_id}.jpg",
        )
        await insert_analysis(
            connection,
            user_id=USER,
            item_id=item_id,
            source_event_id=uuid.uuid4(),
            analysis=analysis,
            provenance=Provenance(provider="import", model="import", prompt_version="import"),
        )
    return item_id


async def _matches(pool: Pool, query: str) -> set[uuid.UUID]:
    async with tenant_transaction(pool, USER) as connection:
        rows = await connection.fetch(
            """SELECT a.item_id FROM analyses a JOIN items i ON i.latest_analysis_id = a.id
                WHERE a.search_vector @@ plainto_tsquery('english', $1)
                   OR a.search_vector @@ plainto_tsquery('simple', $1)""",
            query,
        )
    return {row["item_id"] for row in rows}


@pytest.mark.parametrize("answer", [SAMPLE_ANALYSIS, SAMPLE_SCREENSHOT_ANALYSIS])
def test_the_fake_servers_answers_validate_against_the_tool_schema(
    answer: dict[str, object],
) -> None:
    """What the fake Anthropic server answers is exactly what the forced tool asks for."""
    jsonschema.Draft202012Validator(analysis_json_schema()).validate(answer)
    assert normalize_analysis(answer).headline == answer["headline"]


def test_malformed_v2_output_fails_the_schema_and_the_normalizer() -> None:
    """A v2 field of the wrong type is caught by the schema and rejected with a reason."""
    bad = {**SAMPLE_SCREENSHOT_ANALYSIS, "hashtags": "#ramen"} | {"places": 3}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(analysis_json_schema()).validate(bad)
    with pytest.raises(InvalidAnalysisError, match="places"):
        normalize_analysis(bad)


async def test_v1_and_v2_analyses_decode_index_and_embed(pool: Pool) -> None:
    """Both shapes read back as analyses, the keyword index has their words (v2: headline,
    places, poster, hashtags too), and each gives a document and a vector."""
    v1 = normalize_analysis(V1)
    v2 = normalize_analysis(SAMPLE_SCREENSHOT_ANALYSIS)
    old, new = await _stored(pool, v1), await _stored(pool, v2)

    async with tenant_transaction(pool, USER) as connection:
        read_v1 = await latest_version(connection, old)
        read_v2 = await latest_version(connection, new)
    assert read_v1 is not None and read_v2 is not None
    assert (v1, v2) == (read_v1.analysis, read_v2.analysis)
    assert {old} == await _matches(pool, "noodle soup")
    for query in ("Shinjuku", "Fuunji", "tokyofoodie", "tokyoeats", "1,200"):
        assert {new} == await _matches(pool, query), query

    provider = LocalEmbeddingProvider()
    documents = [embedding_document(v1), embedding_document(v2)]
    assert documents[0].startswith("A bowl of noodle soup")
    assert "Places: Fuunji, Shinjuku, Tokyo." in documents[1]
    vectors = await provider.embed_documents(documents)
    assert [provider.dimensions] * 2 == [len(vector) for vector in vectors]
