"""The presigned POST policy that S3 enforces (the emulator does not, so we check the document)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

from collections_devtools.testing.fixtures import AwsStack
from collections_gateway.presign import presigned_post


async def test_policy_limits_key_prefix_type_size_and_expiry(aws: AwsStack) -> None:
    """The policy pins the caller prefix, the exact key, the declared type, a size range, 15 min."""
    key = "user-1/images/0b7e2c8e-6a1f-4c11-9a2e-3f1d2c3b4a59.jpg"
    async with aws.clients.client("s3") as s3:
        post = await presigned_post(
            s3,
            bucket="collections-images",
            user_id="user-1",
            key=key,
            content_type="image/jpeg",
            max_bytes=1000,
            expires_in=900,
            correlation_id="req-1",
        )
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["starts-with", "$key", "user-1/images/"] in conditions
    assert {"key": key} in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", 1, 1000] in conditions
    assert {"bucket": "collections-images"} in conditions
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(expires.timestamp() - (time.time() + 900)) < 60
    assert key == post["fields"]["key"]
