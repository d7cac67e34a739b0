"""Read-only album links: what a visitor without an account may see. No framework types here.

A link is ``secrets.token_urlsafe(32)`` (256 random bits); the database keeps only its SHA-256,
so neither a backup nor a read of the table opens an album. A visitor sees the album's name,
description and current members that have derivatives, each as a thumbnail and a preview served
by the gateway itself (never an S3 URL: no original, no owner id in a key, nothing that outlives
the link); the summary and tags only if the owner chose so. Unknown, malformed, revoked and
expired tokens, and items that are not (or no longer) members, are all the same 404.

Each live token has a request budget per minute (``share_rate_limit_per_minute``): one page of
thumbnails is one request per image. Unknown tokens are not counted (that would let anyone grow
the counter table without bound); guessing is hopeless at 2^256.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Literal

from botocore.exceptions import ClientError

from collections_gateway.curation_schemas import SharedAlbum, SharedItem
from collections_gateway.limits import Limiter
from collections_gateway.listing import ListQuery, Position, decode_cursor, encode_cursor
from collections_gateway.repositories import sharing as share_sql
from collections_gateway.repositories.sharing import SharedItemRow
from collections_gateway.s3objects import S3Objects
from collections_shared.db import Pool
from collections_shared.errors import NotFoundError

Derivative = Literal["thumbnail", "preview"]
CONTENT_TYPES: dict[Derivative, str] = {"thumbnail": "image/webp", "preview": "image/jpeg"}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_TIMELINE = ListQuery(sort="taken", order="desc")


def new_token() -> tuple[str, bytes]:
    """A fresh link token and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).digest()


def token_hash(token: str) -> bytes:
    """The stored form of ``token``; 404 if it cannot be a token at all."""
    if not _TOKEN.fullmatch(token):
        raise NotFoundError("no such link")
    return hashlib.sha256(token.encode()).digest()


class SharedLinks:
    def __init__(self, pool: Pool, s3: S3Objects, limiter: Limiter) -> None:
        self.pool = pool
        self.s3 = s3
        self.limiter = limiter

    async def album(self, token: str, *, limit: int, cursor: str | None) -> SharedAlbum:
        """The album and one page of its members, newest taken first."""
        hashed = token_hash(token)
        after = decode_cursor(_TIMELINE, cursor) if cursor else None
        async with self.pool.acquire() as connection:
            album = await share_sql.shared_album(connection, hashed)
            if album is None:
                raise NotFoundError("no such link")
            await self._spend(hashed)
            rows = await share_sql.shared_items(connection, hashed, after=after, limit=limit + 1)
        page = rows[:limit]
        more = len(rows) > limit
        return SharedAlbum(
            name=album.name,
            description=album.description,
            item_count=album.item_count,
            expires_at=album.expires_at,
            items=[_item(token, row) for row in page],
            next_cursor=encode_cursor(_TIMELINE, Position(page[-1].taken_key, page[-1].item_id))
            if more
            else None,
        )

    async def item(self, token: str, item_id: uuid.UUID) -> SharedItem:
        return _item(token, await self._member(token, item_id))

    async def image(self, token: str, item_id: uuid.UUID, kind: Derivative) -> bytes:
        """The bytes of a member's thumbnail or preview (our own re-encodes, never originals)."""
        row = await self._member(token, item_id)
        key = row.thumbnail_key if kind == "thumbnail" else row.preview_key
        try:
            return await self.s3.read(key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise NotFoundError("no such image") from error
            raise

    async def _member(self, token: str, item_id: uuid.UUID) -> SharedItemRow:
        hashed = token_hash(token)
        async with self.pool.acquire() as connection:
            rows = await share_sql.shared_items(connection, hashed, only_item=item_id)
            if not rows:
                # Spend only for a live link, so a 404 costs nothing to remember.
                if await share_sql.shared_album(connection, hashed) is not None:
                    await self._spend(hashed)
                raise NotFoundError("no such item in this album")
        await self._spend(hashed)
        return rows[0]

    async def _spend(self, hashed: bytes) -> None:
        await self.limiter.check_rate(f"share:{hashed.hex()}")


def _item(token: str, row: SharedItemRow) -> SharedItem:
    base = f"/shared/{token}/items/{row.item_id}"
    return SharedItem(
        id=row.item_id,
        thumbnail_url=f"{base}/thumbnail",
        preview_url=f"{base}/preview",
        width=row.width,
        height=row.height,
        summary=row.summary,
        tags=row.tags,
    )
