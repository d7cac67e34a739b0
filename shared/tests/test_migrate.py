"""The migration runner applies each file once, in order, even with several runners at once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from collections_devtools.testing.fixtures import DatabaseUnderTest
from collections_shared import migrate as migrate_module
from collections_shared.migrate import Migration, MigrationError, load_migrations, migrate


async def _fresh_database(admin_dsn: str, name: str) -> str:
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_dsn.rsplit("/", 1)[0] + f"/{name}"


def test_migrations_are_ordered_by_number() -> None:
    """Files are applied in their numeric order."""
    versions = [migration.version for migration in load_migrations()]
    assert sorted(versions) == versions
    assert versions[0].startswith("0001")


async def test_concurrent_runners_apply_each_migration_once(postgres_admin_dsn: str) -> None:
    """Five services starting at once: one applies everything, the others find nothing to do."""
    dsn = await _fresh_database(postgres_admin_dsn, "migrate_concurrent")
    results = await asyncio.gather(*(migrate(dsn) for _ in range(5)))
    applied = [versions for versions in results if versions]
    assert 1 == len(applied)
    assert [m.version for m in load_migrations()] == applied[0]
    connection = await asyncpg.connect(dsn)
    try:
        assert len(load_migrations()) == await connection.fetchval(
            "SELECT count(*) FROM schema_migrations"
        )
    finally:
        await connection.close()


async def test_second_run_applies_nothing(database: DatabaseUnderTest) -> None:
    """Running the migrations again on an up-to-date database is a no-op."""
    assert [] == await migrate(database.owner_dsn)


async def test_edited_applied_migration_is_an_error(
    database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration file changed after it was applied stops the runner instead of drifting."""
    original = load_migrations()
    edited = [Migration(original[0].version, original[0].sql + "\n-- edited"), *original[1:]]
    monkeypatch.setattr(migrate_module, "load_migrations", lambda: edited)
    with pytest.raises(MigrationError, match=original[0].version):
        await migrate(database.owner_dsn)


async def test_app_role_is_not_privileged(database: DatabaseUnderTest) -> None:
    """The services' role is neither superuser nor BYPASSRLS, and owns no table."""
    connection = await asyncpg.connect(database.owner_dsn)
    try:
        role = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'collections_app'"
        )
        owned = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE tableowner = 'collections_app'"
        )
    finally:
        await connection.close()
    assert (False, False) == (role["rolsuper"], role["rolbypassrls"])
    assert 0 == owned


async def test_pgvector_is_new_enough_for_iterative_scans(database: DatabaseUnderTest) -> None:
    """pgvector ≥ 0.8 (HNSW iterative scan) is installed in the migrated database."""
    connection = await asyncpg.connect(database.owner_dsn)
    try:
        version = await connection.fetchval(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        )
        await connection.execute("SET hnsw.iterative_scan = relaxed_order")
    finally:
        await connection.close()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (0, 8)
