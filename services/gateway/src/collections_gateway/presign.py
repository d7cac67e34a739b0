"""Presigned S3 POST uploads, limited to the caller's prefix, type, size and 15 minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


def upload_conditions(
    *, user_id: str, key: str, content_type: str, max_bytes: int, correlation_id: str
) -> tuple[dict[str, str], list[Any]]:
    """The form fields and policy conditions S3 enforces on the browser's POST.

    The key is fixed (a server-generated item id) and must also lie under the caller's own
    ``{sub}/images/`` prefix; the Content-Type must be the declared one; the body must be between
    1 byte and the upload cap.
    """
    fields = {"Content-Type": content_type, "x-amz-meta-correlation-id": correlation_id}
    # botocore adds the bucket, key and signing conditions itself.
    conditions: list[Any] = [
        ["starts-with", "$key", f"{user_id}/images/"],
        {"Content-Type": content_type},
        {"x-amz-meta-correlation-id": correlation_id},
        ["content-length-range", 1, max_bytes],
    ]
    return fields, conditions


async def presigned_post(
    s3: S3Client,
    *,
    bucket: str,
    user_id: str,
    key: str,
    content_type: str,
    max_bytes: int,
    expires_in: int,
    correlation_id: str,
) -> dict[str, Any]:
    """``{url, fields}`` for a multipart POST straight to S3."""
    fields, conditions = upload_conditions(
        user_id=user_id,
        key=key,
        content_type=content_type,
        max_bytes=max_bytes,
        correlation_id=correlation_id,
    )
    result: dict[str, Any] = await s3.generate_presigned_post(
        Bucket=bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
    )
    return result
