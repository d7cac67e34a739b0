"""A library of items for curation tests: uploaded through the API, processed by hand.

Tests of the gateway alone have no ingest worker; :class:`Library` plays its part where a test
needs it (derivatives in S3, an EXIF date, a position and camera facts that must never leak).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from collections_devtools.testing.api import ApiUser, upload
from collections_devtools.testing.fixtures import AwsStack, DatabaseUnderTest
from collections_devtools.testing.images import jpeg
from collections_shared.domain.keys import derivative_key


@dataclass
class Library:
    """Uploads items through the API and plays ingest's part (derivatives, EXIF date) directly."""

    client: Any
    """Any httpx-like client of the gateway."""
    database: DatabaseUnderTest
    aws: AwsStack
    seed: int = 9000

    async def upload(self, user: ApiUser, *, taken_at: datetime | None = None) -> str:
        self.seed += 1
        response = await upload(self.client, user, jpeg(64, 48, seed=self.seed))
        assert 202 == response.status_code, response.text
        item_id: str = response.json()["id"]
        if taken_at is not None:
            await self.sql("UPDATE items SET taken_at = $2 WHERE id = $1::uuid", item_id, taken_at)
        return item_id

    async def process(self, user: ApiUser, item_id: str) -> None:
        """What ingest leaves behind: a thumbnail and a preview in S3, the item ``processed``."""
        keys = {
            name: derivative_key(user.user_id, uuid.UUID(item_id), name)
            for name in ("thumbnail", "preview")
        }
        async with self.aws.clients.client("s3") as s3:
            for name, key in keys.items():
                body = f"{name} of {item_id}".encode()
                await s3.put_object(Bucket="collections-images", Key=key, Body=body)
        await self.sql(
            """UPDATE items
                  SET status = 'processed', derivative_keys = $2, mime_type = 'image/jpeg',
                      width = 64, height = 48, sha256 = md5(id::text), camera_make = 'Secretcam',
                      exif = '{"camera_make": "Secretcam"}', gps_latitude = 48.8584,
                      gps_longitude = 2.2945
                WHERE id = $1::uuid""",
            item_id,
            keys,
        )

    async def sql(self, statement: str, *args: Any) -> Any:
        """Run ``statement`` as the database owner (past row-level security)."""
        connection = await asyncpg.connect(self.database.owner_dsn)
        try:
            await connection.set_type_codec(
                "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
            return await connection.fetch(statement, *args)
        finally:
            await connection.close()
