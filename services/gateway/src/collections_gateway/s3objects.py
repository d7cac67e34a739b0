"""The gateway's use of the bucket: originals in, presigned URLs out, deletion."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from collections_shared.domain.keys import derivative_prefix, user_prefix

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import ObjectIdentifierTypeDef

_MAX_CACHED_URLS = 20_000


class S3Objects:
    """``client`` does the work; ``signer`` signs URLs for browsers.

    They differ only when browsers reach S3 at another address than the services do (an emulator
    behind a proxy): the host is part of a SigV4 signature, so URLs are signed for that address.
    """

    def __init__(
        self, client: S3Client, *, bucket: str, url_expiry: int, signer: Any | None = None
    ) -> None:
        self.client = client
        self.signer = signer or client
        self.bucket = bucket
        self._url_expiry = url_expiry
        # Signing costs ~0.2 ms per URL and a page shows dozens; a URL is reusable, and a
        # stable one lets the browser cache the image.
        self._urls: dict[tuple[str, str, str | None], tuple[str, float]] = {}

    async def put(self, key: str, data: bytes, content_type: str, *, correlation_id: str) -> None:
        await self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata={"correlation-id": correlation_id},
        )

    async def read(self, key: str) -> bytes:
        """The object's bytes (derivatives only: they are small)."""
        response = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def exists(self, key: str) -> bool:
        try:
            await self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    async def url(self, key: str, content_type: str, *, download: str | None = None) -> str:
        """A GET URL valid for the configured time, always with a fixed content type.

        Originals are offered as downloads (``attachment``) so a browser never renders bytes we
        did not re-encode; derivatives are our own re-encodes and display inline.
        """
        cache_key = (key, content_type, download)
        now = time.monotonic()
        cached = self._urls.get(cache_key)
        if cached is not None and cached[1] > now:
            return cached[0]
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type}
        if download is not None:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(download)}"
        url: str = await self.signer.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self._url_expiry
        )
        if len(self._urls) >= _MAX_CACHED_URLS:
            self._urls.pop(next(iter(self._urls)))
        # Reused for half its lifetime, so a URL handed out is always valid for at least that.
        self._urls[cache_key] = (url, now + self._url_expiry / 2)
        return url

    async def delete_item_objects(self, user_id: str, item_id: uuid.UUID, original: str) -> int:
        await self.client.delete_object(Bucket=self.bucket, Key=original)
        return 1 + await self.delete_prefix(derivative_prefix(user_id, item_id))

    async def delete_user_objects(self, user_id: str) -> int:
        return await self.delete_prefix(user_prefix(user_id))

    async def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys: list[ObjectIdentifierTypeDef] = [
                {"Key": entry["Key"]} for entry in page.get("Contents", [])
            ]
            if keys:
                await self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
                deleted += len(keys)
        return deleted
