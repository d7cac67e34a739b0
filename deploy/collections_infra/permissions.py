"""Least-privilege IAM for each service's task role, all in one place.

========  ==================================================  ================
service   S3 objects (keys ``{user_id}/...``)                 SQS
========  ==================================================  ================
gateway   put/get/delete ``images``; get/delete ``derived``   —
ingest    get/delete ``images``; put/delete ``derived``       consume ingest
analyzer  get ``derived`` (the model never sees an original)  consume analyzer
embedder  —                                                   consume embedder
search    get ``derived`` (presigned thumbnail URLs)          —
chat      —                                                   —
========  ==================================================  ================

- ``s3:ListBucket`` for gateway (HeadBucket health, deleting a user's prefix), ingest and
  analyzer: without it S3 answers 403 instead of 404 for a missing key, and the workers tell
  "gone for good" (fail the item) from "try again" by that code.
- ``events:PutEvents`` for gateway, ingest, analyzer and embedder, each only with its own
  ``source`` (``collections.<service>``): one compromised worker cannot forge another's events.
- chat: item operations on its table, no Scan.
- Bedrock (context ``bedrock``, off by default): analyzer and search ``bedrock:InvokeModel``,
  chat ``bedrock:InvokeModelWithResponseStream``, on the configured model alone; granted in
  ``collections_infra/bedrock.py``.
- Cognito: nothing. The gateway's calls (SignUp, ConfirmSignUp, InitiateAuth, GlobalSignOut)
  are public-client APIs that need no IAM; AdminConfirmSignUp, which only the local stacks use
  to auto-confirm, is deliberately not granted, so production can never skip e-mail checks.

Every grant names a resource ARN: no ``*`` for a data action.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam

from collections_infra.catalog import Kind, ServiceSpec
from collections_infra.data_stack import DataStack

IMAGES = "*/images/*"
DERIVED = "*/derived/*"

# S3 object actions per service, by key pattern.
S3_OBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "gateway": {
        IMAGES: ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
        DERIVED: ("s3:GetObject", "s3:DeleteObject"),
    },
    "ingest": {
        IMAGES: ("s3:GetObject", "s3:DeleteObject"),
        DERIVED: ("s3:PutObject", "s3:DeleteObject"),
    },
    "analyzer": {DERIVED: ("s3:GetObject",)},
    "search": {DERIVED: ("s3:GetObject",)},
}
LIST_BUCKET = ("gateway", "ingest", "analyzer")
PUBLISHERS = ("gateway", "ingest", "analyzer", "embedder")
# Item operations by key only: no Scan, so no code path can read across tenants' partitions.
CHAT_TABLE = (
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)


def grant(spec: ServiceSpec, role: iam.IRole, data: DataStack) -> None:
    """Attach exactly what ``spec`` needs to its task role."""
    bucket = data.images.bucket
    if spec.name in LIST_BUCKET:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
        )
    for pattern, actions in S3_OBJECTS.get(spec.name, {}).items():
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=[bucket.arn_for_objects(pattern)])
        )
    if spec.kind is Kind.WORKER:
        data.messaging.queues[spec.name].grant_consume_messages(role)
    if spec.name in PUBLISHERS:
        bus = data.messaging.bus
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["events:PutEvents"],
                resources=[bus.event_bus_arn],
                conditions={"StringEquals": {"events:source": f"collections.{spec.name}"}},
            )
        )
        if spec.name == "gateway":  # its /health checks the bus
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["events:DescribeEventBus"], resources=[bus.event_bus_arn]
                )
            )
    if spec.name == "chat":
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(CHAT_TABLE), resources=[data.chat.table.table_arn])
        )
