"""aioboto3 clients with one place to point them at an emulator.

``AWS_ENDPOINT_URL`` (moto's server locally, LocalStack under compose) overrides every service's
endpoint; unset, the SDK talks to real AWS with its normal credential chain.
"""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from collections_shared.errors import PermanentError, TransientError
from collections_shared.health import HealthCheck

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_events import EventBridgeClient
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_sqs import SQSClient


class AwsClients:
    """Creates aiobotocore clients that share one session, config and endpoint.

    Open clients with :meth:`open` inside an ``AsyncExitStack`` owned by the app's lifespan, so
    they live as long as the process and close with it.
    """

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_pool_connections: int = 50,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._session = aioboto3.Session(region_name=region)
        self._config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=max_pool_connections,
            # Presigned POSTs for browsers need the virtual-host-free path style on emulators.
            s3={"addressing_style": "path"} if endpoint_url else None,
        )

    def endpoint_for(self, service: str) -> str | None:
        """``AWS_ENDPOINT_URL_<SERVICE>`` (e.g. Cognito on moto beside LocalStack) wins."""
        specific = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}")
        return specific or self.endpoint_url

    def client(self, service: str, *, endpoint_url: str | None = None, **overrides: Any) -> Any:
        """An async context manager yielding a client for ``service``."""
        if service == "s3":
            # Presigned URLs and POSTs must use SigV4; botocore may pick the deprecated SigV2.
            overrides.setdefault("signature_version", "s3v4")
        return self._session.client(
            service,
            endpoint_url=endpoint_url or self.endpoint_for(service),
            config=self._config.merge(Config(**overrides)) if overrides else self._config,
        )

    async def open(
        self,
        stack: AsyncExitStack,
        service: str,
        *,
        endpoint_url: str | None = None,
        **overrides: Any,
    ) -> Any:
        """Open a client whose lifetime is tied to ``stack``."""
        return await stack.enter_async_context(
            self.client(service, endpoint_url=endpoint_url, **overrides)
        )


def bucket_check(s3: S3Client, bucket: str) -> HealthCheck:
    """Health check: the bucket exists and we may read it."""

    async def check() -> None:
        await s3.head_bucket(Bucket=bucket)

    return check


def queue_check(sqs: SQSClient, queue_url: str) -> HealthCheck:
    """Health check: the queue answers."""

    async def check() -> None:
        await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])

    return check


def event_bus_check(events: EventBridgeClient, bus: str) -> HealthCheck:
    """Health check: the event bus exists."""

    async def check() -> None:
        await events.describe_event_bus(Name=bus)

    return check


def table_check(dynamodb: DynamoDBClient, table: str) -> HealthCheck:
    """Health check: the DynamoDB table exists."""

    async def check() -> None:
        await dynamodb.describe_table(TableName=table)

    return check


_MISSING = {"404", "NoSuchKey", "NotFound"}


async def read_object(
    s3: S3Client, bucket: str, key: str, *, missing_code: str, max_bytes: int | None = None
) -> bytes:
    """An object's bytes for a worker: a missing object is permanent, S3 trouble is transient.

    With ``max_bytes`` the size is checked from the object's head before anything is downloaded.
    """
    try:
        if max_bytes is not None:
            head = await s3.head_object(Bucket=bucket, Key=key)
            if int(head.get("ContentLength", 0)) > max_bytes:
                raise PermanentError("file_too_large", f"larger than {max_bytes} bytes")
        response = await s3.get_object(Bucket=bucket, Key=key)
        async with response["Body"] as body:
            data: bytes = await body.read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING:
            raise PermanentError(
                missing_code, f"{key.rsplit('/', 1)[-1]} is not in storage"
            ) from error
        raise TransientError("storage_unavailable", f"S3 read failed: {error}") from error
    except BotoCoreError as error:
        raise TransientError("storage_unavailable", f"S3 read failed: {error}") from error
    return data
