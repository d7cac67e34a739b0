"""Apply the SQL migrations in ``collections_shared/migrations`` in order, each exactly once.

Every file runs in its own transaction and is recorded in ``schema_migrations`` with its
checksum. A session-level advisory lock serialises runners, so several services starting at once
is safe: the first applies, the others wait and then find nothing left to do. An applied file
whose content changed is an error, not a silent skip.

Run as the database owner: ``python -m collections_shared.migrate`` with ``MIGRATE_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from dataclasses import dataclass
from importlib import resources

import asyncpg

from collections_shared.logging import configure_logging, get_logger
from collections_shared.settings import fail_configuration

# Any stable 64-bit number will do; it only has to be the same in every runner.
_ADVISORY_LOCK_KEY = 0x636F6C6C6D696772  # "collmigr"
APP_ROLE = "collections_app"

log = get_logger(__name__)


class MigrationError(Exception):
    """The recorded history and the files disagree."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    """The migration files, ordered by their numeric prefix."""
    folder = resources.files("collections_shared") / "migrations"
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [Migration(entry.name.removesuffix(".sql"), entry.read_text()) for entry in files]


async def migrate(dsn: str, *, app_password: str | None = None) -> list[str]:
    """Apply pending migrations; return the versions applied by this call.

    Args:
        dsn: a connection string of the schema owner.
        app_password: if given, the application role may log in with this password.
    """
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _ADVISORY_LOCK_KEY)
        try:
            applied = await _apply_pending(connection)
            if app_password is not None:
                await _enable_app_login(connection, app_password)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _ADVISORY_LOCK_KEY)
    finally:
        await connection.close()
    return applied


async def _apply_pending(connection: asyncpg.Connection) -> list[str]:
    await connection.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    text PRIMARY KEY,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    recorded = {
        row["version"]: row["checksum"]
        for row in await connection.fetch("SELECT version, checksum FROM schema_migrations")
    }
    applied: list[str] = []
    for migration in load_migrations():
        if migration.version in recorded:
            if recorded[migration.version] != migration.checksum:
                msg = f"migration {migration.version} changed after it was applied"
                raise MigrationError(msg)
            continue
        async with connection.transaction():
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                migration.version,
                migration.checksum,
            )
        log.info("migration_applied", version=migration.version)
        applied.append(migration.version)
    return applied


async def _enable_app_login(connection: asyncpg.Connection, password: str) -> None:
    # Identifiers and literals cannot be bound parameters in ALTER ROLE; quote them server-side.
    statement = await connection.fetchval(
        "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", APP_ROLE, password
    )
    await connection.execute(statement)


def main() -> None:
    """Command-line entry: migrate the database named by ``MIGRATE_DATABASE_URL``."""
    configure_logging("migrate")
    dsn = os.environ.get("MIGRATE_DATABASE_URL")
    if not dsn:
        fail_configuration("invalid configuration: MIGRATE_DATABASE_URL: is required")
    try:
        applied = asyncio.run(migrate(dsn, app_password=os.environ.get("APP_DATABASE_PASSWORD")))
    except (OSError, asyncpg.PostgresError, MigrationError) as error:
        sys.stderr.write(f"migration failed: {error}\n")
        raise SystemExit(1) from error
    log.info("migrations_done", applied=applied)


if __name__ == "__main__":
    main()
