"""Create every AWS resource the system needs, idempotently, on an emulator (or a dev account).

Used by ``make up`` (moto) and by compose's provisioning step (LocalStack + moto's Cognito). In
production the CDK app in ``deploy/`` owns these resources; both read the queues and routes from
:mod:`collections_shared.topology`:

- bucket → ``s3:ObjectCreated:*`` notification → the ingest queue;
- event bus ``collections``; one rule per DetailType → the consumer's queue;
- every queue has a DLQ (redrive after ``MAX_RECEIVE_COUNT`` receives);
- the DynamoDB table for chat checkpoints and sessions, TTL on ``expires_at``;
- the Cognito user pool (email sign-in, password policy) and its public app client.

Running it twice changes nothing; each call returns the same identifiers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from collections_shared.aws import AwsClients
from collections_shared.topology import (
    MAX_RECEIVE_COUNT,
    QUEUES,
    RETENTION_SECONDS,
    QueueSpec,
    routes,
    upload_queue,
)


@dataclass(frozen=True)
class StackSpec:
    """Names of the resources; defaults match the services' settings defaults."""

    bucket: str = "collections-images"
    event_bus: str = "collections"
    table: str = "collections-chat"
    user_pool: str = "collections-users"
    app_client: str = "collections-web"
    cors_origins: tuple[str, ...] = ("http://127.0.0.1:8000", "http://localhost:8000")
    queues: tuple[QueueSpec, ...] = QUEUES
    """From :mod:`collections_shared.topology`, like the CDK app's."""


@dataclass(frozen=True)
class StackOutputs:
    user_pool_id: str
    app_client_id: str
    queue_urls: dict[str, str]
    dlq_urls: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


async def provision(aws: AwsClients, spec: StackSpec | None = None) -> StackOutputs:
    """Create what is missing and return the identifiers the services need."""
    spec = spec or StackSpec()
    async with aws.client("sqs") as sqs:
        queue_urls, dlq_urls, arns = await _ensure_queues(sqs, spec.queues)
    async with aws.client("s3") as s3:
        await _ensure_bucket(s3, spec, arns[upload_queue().name])
    async with aws.client("events") as events:
        await _ensure_bus(events, spec, arns)
    async with aws.client("dynamodb") as dynamodb:
        await _ensure_table(dynamodb, spec.table)
    async with aws.client("cognito-idp") as cognito:
        pool_id, client_id = await _ensure_user_pool(cognito, spec)
    return StackOutputs(
        user_pool_id=pool_id, app_client_id=client_id, queue_urls=queue_urls, dlq_urls=dlq_urls
    )


async def _queue_arn(sqs: Any, url: str) -> str:
    response = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = response["Attributes"]["QueueArn"]
    return arn


async def _ensure_queues(
    sqs: Any, queues: tuple[QueueSpec, ...]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    urls: dict[str, str] = {}
    dlqs: dict[str, str] = {}
    arns: dict[str, str] = {}
    for queue in queues:
        dlq_url = (
            await sqs.create_queue(
                QueueName=f"{queue.name}-dlq",
                Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)},
            )
        )["QueueUrl"]
        redrive = {
            "deadLetterTargetArn": await _queue_arn(sqs, dlq_url),
            "maxReceiveCount": str(MAX_RECEIVE_COUNT),
        }
        attributes = {
            "VisibilityTimeout": str(queue.visibility_timeout),
            "RedrivePolicy": json.dumps(redrive),
            "MessageRetentionPeriod": str(RETENTION_SECONDS),
        }
        url = (await sqs.create_queue(QueueName=queue.name))["QueueUrl"]
        await sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        urls[queue.name], dlqs[queue.name] = url, dlq_url
        arns[queue.name] = await _queue_arn(sqs, url)
    return urls, dlqs, arns


async def _ensure_bucket(s3: Any, spec: StackSpec, queue_arn: str) -> None:
    try:
        await s3.head_bucket(Bucket=spec.bucket)
    except s3.exceptions.ClientError:
        await s3.create_bucket(Bucket=spec.bucket)
    await s3.put_public_access_block(
        Bucket=spec.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    await s3.put_bucket_cors(
        Bucket=spec.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": list(spec.cors_origins),
                    "AllowedMethods": ["GET", "POST"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    wanted = [{"Id": "ingest", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
    current = await s3.get_bucket_notification_configuration(Bucket=spec.bucket)
    have = [
        {"Id": c.get("Id"), "QueueArn": c.get("QueueArn"), "Events": c.get("Events")}
        for c in current.get("QueueConfigurations", [])
    ]
    if have != wanted:
        # Setting it sends an s3:TestEvent to the queue; only do it when something changed.
        await s3.put_bucket_notification_configuration(
            Bucket=spec.bucket, NotificationConfiguration={"QueueConfigurations": wanted}
        )


async def _ensure_bus(events: Any, spec: StackSpec, arns: dict[str, str]) -> None:
    buses = await events.list_event_buses(NamePrefix=spec.event_bus)
    if not any(bus["Name"] == spec.event_bus for bus in buses.get("EventBuses", [])):
        await events.create_event_bus(Name=spec.event_bus)
    for detail_type, queue_spec in routes().items():
        queue, rule = queue_spec.name, f"{spec.event_bus}-{detail_type}"
        await events.put_rule(
            Name=rule,
            EventBusName=spec.event_bus,
            EventPattern=json.dumps({"detail-type": [detail_type]}),
            State="ENABLED",
        )
        await events.put_targets(
            Rule=rule, EventBusName=spec.event_bus, Targets=[{"Id": queue, "Arn": arns[queue]}]
        )


async def _ensure_table(dynamodb: Any, table: str) -> None:
    existing = await dynamodb.list_tables()
    if table not in existing.get("TableNames", []):
        await dynamodb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
    ttl = await dynamodb.describe_time_to_live(TableName=table)
    if ttl.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") != "ENABLED":
        await dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
}


async def _ensure_user_pool(cognito: Any, spec: StackSpec) -> tuple[str, str]:
    pools = await cognito.list_user_pools(MaxResults=60)
    pool_id = next(
        (p["Id"] for p in pools.get("UserPools", []) if p["Name"] == spec.user_pool), None
    )
    if pool_id is None:
        created = await cognito.create_user_pool(
            PoolName=spec.user_pool,
            Policies={"PasswordPolicy": PASSWORD_POLICY},
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
        )
        pool_id = created["UserPool"]["Id"]
    clients = await cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    client_id = next(
        (
            c["ClientId"]
            for c in clients.get("UserPoolClients", [])
            if c["ClientName"] == spec.app_client
        ),
        None,
    )
    if client_id is None:
        created_client = await cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=spec.app_client,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            # As in the CDK app: short-lived because a sign-out cannot recall an issued token.
            AccessTokenValidity=15,
            IdTokenValidity=15,
            RefreshTokenValidity=30,
            TokenValidityUnits={
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
        )
        client_id = created_client["UserPoolClient"]["ClientId"]
    return str(pool_id), str(client_id)


def main() -> None:
    """``python -m collections_devtools.provision``: provision against ``AWS_ENDPOINT_URL``.

    Prints the identifiers as JSON (and writes them to ``PROVISION_OUTPUT`` if set), for
    compose's provisioning step or a developer account.
    """
    import asyncio  # noqa: PLC0415 - command-line use only
    import os  # noqa: PLC0415
    import sys  # noqa: PLC0415

    aws = AwsClients(
        region=os.environ.get("AWS_REGION", "us-east-1"),
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
    )
    origins = tuple(filter(None, os.environ.get("CORS_ORIGINS", "").split(",")))
    spec = StackSpec(cors_origins=origins) if origins else StackSpec()
    outputs = asyncio.run(provision(aws, spec))
    text = outputs.to_json()
    if target := os.environ.get("PROVISION_OUTPUT"):
        with open(target, "w") as handle:  # noqa: PTH123 - a plain path from the environment
            handle.write(text)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
