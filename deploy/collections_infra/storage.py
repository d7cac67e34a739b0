"""The image bucket and the chat table.

Mirrors ``collections_devtools.provision`` (the local stack's emulator setup): one bucket whose
ObjectCreated notifications feed the ingest queue, and a pk/sk table with TTL on ``expires_at``
for chat checkpoints and sessions.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from collections_infra.config import StageConfig

# Browsers upload with a presigned POST and read derivatives with presigned GETs.
_CORS_METHODS = [s3.HttpMethods.GET, s3.HttpMethods.HEAD, s3.HttpMethods.POST]


class ImageBucket(Construct):
    """Private, encrypted, TLS-only bucket; keys are ``{user_id}/images|derived/...``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, ingest_queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=config.retain_data,
            cors=[
                s3.CorsRule(
                    allowed_methods=_CORS_METHODS,
                    allowed_origins=list(config.origins),
                    allowed_headers=["*"],
                    max_age=3000,
                )
            ]
            if config.origins
            else None,
            lifecycle_rules=[
                # A browser that gives up mid-upload leaves parts that are billed but invisible.
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                # Deleting an item deletes its objects; with versioning on, expire what it left.
                s3.LifecycleRule(
                    id="expire-deleted-versions",
                    noncurrent_version_expiration=Duration.days(30),
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=removal,
            auto_delete_objects=not config.retain_data,
        )
        # No key filter: S3 filters only by fixed prefix/suffix and user ids lead every key, so
        # ingest itself skips keys that are not under ``{user_id}/images/`` (as locally).
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.SqsDestination(ingest_queue)
        )


class ChatTable(Construct):
    """On-demand pk/sk table; TTL removes expired sessions for free; PITR for mistakes."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=f"{config.prefix}-chat",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
