"""The gateway's use of the bucket: originals in, presigned URLs out, deletion."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from collections_shared.keys import derivative_prefix, user_prefix


class S3Objects:
    """``client`` does the work; ``signer`` signs URLs for browsers.

    They differ only when browsers reach S3 at another address than the services do (an emulator
    behind a proxy): the host is part of a SigV4 signature, so URLs are signed for that address.
    """

    def __init__(
        self, client: Any, *, bucket: str, url_expiry: int, signer: Any | None = None
    ) -> None:
        self.client = client
        self.signer = signer or client
        self.bucket = bucket
        self._url_expiry = url_expiry

    async def put(self, key: str, data: bytes, content_type: str, *, correlation_id: str) -> None:
        await self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            Metadata={"correlation-id": correlation_id},
        )

    async def url(self, key: str, content_type: str, *, download: str | None = None) -> str:
        """A GET URL valid for the configured time, always with a fixed content type.

        Originals are offered as downloads (``attachment``) so a browser never renders bytes we
        did not re-encode; derivatives are our own re-encodes and display inline.
        """
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type}
        if download is not None:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(download)}"
        url: str = await self.signer.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self._url_expiry
        )
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
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
            if keys:
                await self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
                deleted += len(keys)
        return deleted
