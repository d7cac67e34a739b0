"""The data stack keeps the security and durability properties production relies on."""

from __future__ import annotations

import json
from typing import Any

from collections_infra.messaging import MAX_RECEIVE_COUNT, QUEUES, ROUTES


def _only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert 1 == len(resources), list(resources)
    properties: dict[str, Any] = next(iter(resources.values()))["Properties"]
    return properties


def test_bucket_is_encrypted_private_and_tls_only(stage: Any) -> None:
    """SSE on, every public access block on, and a policy denying non-TLS requests."""
    bucket = _only(stage.resources("data", "AWS::S3::Bucket"))
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert "AES256" == rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    assert {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    } == bucket["PublicAccessBlockConfiguration"]
    policy = _only(stage.resources("data", "AWS::S3::BucketPolicy"))["PolicyDocument"]
    denials = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert any({"Bool": {"aws:SecureTransport": "false"}} == s.get("Condition") for s in denials)


def test_bucket_lifecycle_aborts_incomplete_uploads(stage: Any) -> None:
    """Abandoned multipart uploads are cleaned up after a day."""
    rules = _only(stage.resources("data", "AWS::S3::Bucket"))["LifecycleConfiguration"]["Rules"]
    aborts = [
        r["AbortIncompleteMultipartUpload"] for r in rules if "AbortIncompleteMultipartUpload" in r
    ]
    assert [{"DaysAfterInitiation": 1}] == aborts


def test_bucket_cors_allows_presigned_post_from_the_site(prod: Any) -> None:
    """Browsers on the public hostname may POST uploads and GET derivatives."""
    cors = _only(prod.resources("data", "AWS::S3::Bucket"))["CorsConfiguration"]["CorsRules"]
    assert ["https://photos.example.com"] == cors[0]["AllowedOrigins"]
    assert {"GET", "HEAD", "POST"} == set(cors[0]["AllowedMethods"])


def test_uploads_notify_the_ingest_queue(stage: Any) -> None:
    """Every ObjectCreated event goes to the ingest queue, as in the local stack."""
    ingest = stage.logical_id(stage.built.data.messaging.queues["ingest"])
    notifications = _only(stage.resources("data", "Custom::S3BucketNotifications"))
    (config,) = notifications["NotificationConfiguration"]["QueueConfigurations"]
    assert ["s3:ObjectCreated:*"] == config["Events"]
    assert {"Fn::GetAtt": [ingest, "Arn"]} == config["QueueArn"]


def test_every_queue_has_a_dlq_with_redrive(stage: Any) -> None:
    """Each consumer queue redrives to its own DLQ after five receives."""
    messaging = stage.built.data.messaging
    queues = stage.resources("data", "AWS::SQS::Queue")
    assert 2 * len(QUEUES) == len(queues)
    for spec in QUEUES:
        queue = queues[stage.logical_id(messaging.queues[spec.consumer])]["Properties"]
        dlq = stage.logical_id(messaging.dlqs[spec.consumer])
        assert {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        } == queue["RedrivePolicy"]
    assert all(q["Properties"]["SqsManagedSseEnabled"] for q in queues.values())


def test_every_dlq_has_a_depth_alarm(stage: Any) -> None:
    """One visible message in any DLQ raises an alarm that notifies the alarm topic."""
    messaging = stage.built.data.messaging
    alarms = stage.resources("data", "AWS::CloudWatch::Alarm").values()
    for consumer, dlq in messaging.dlqs.items():
        dlq_name = {"Fn::GetAtt": [stage.logical_id(dlq), "QueueName"]}
        matching = [
            a["Properties"]
            for a in alarms
            if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": dlq_name}]
        ]
        assert 1 == len(matching), consumer
        alarm = matching[0]
        assert (0, "GreaterThanThreshold") == (alarm["Threshold"], alarm["ComparisonOperator"])
        topic = stage.logical_id(messaging.alarm_topic)
        assert [{"Ref": topic}] == alarm["AlarmActions"]


def test_rules_route_each_detail_type_to_its_consumer(stage: Any) -> None:
    """ImageProcessed and AnalysisRequested → analyzer, AnalysisComplete and ReindexRequested →
    embedder, ReprocessRequested → ingest: one rule each, as the topology says, and no other."""
    assert {
        "ImageProcessed": "analyzer",
        "AnalysisRequested": "analyzer",
        "AnalysisComplete": "embedder",
        "ReindexRequested": "embedder",
        "ReprocessRequested": "ingest",
    } == ROUTES
    messaging = stage.built.data.messaging
    routed = {}
    for rule in stage.resources("data", "AWS::Events::Rule").values():
        props = rule["Properties"]
        (detail_type,) = props["EventPattern"]["detail-type"]
        (target,) = props["Targets"]
        routed[detail_type] = target["Arn"]
        assert {"Ref": stage.logical_id(messaging.bus)} == props["EventBusName"]
    expected = {
        detail: {"Fn::GetAtt": [stage.logical_id(messaging.queues[consumer]), "Arn"]}
        for detail, consumer in ROUTES.items()
    }
    assert expected == routed


def test_chat_table_is_on_demand_with_ttl_and_pitr(stage: Any) -> None:
    """pk/sk keys, pay per request, TTL on expires_at, point-in-time recovery on."""
    table = _only(stage.resources("data", "AWS::DynamoDB::Table"))
    assert "PAY_PER_REQUEST" == table["BillingMode"]
    assert [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ] == table["KeySchema"]
    assert {"AttributeName": "expires_at", "Enabled": True} == table["TimeToLiveSpecification"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_database_is_encrypted_private_postgres_17(stage: Any) -> None:
    """PostgreSQL 17 (pgvector 0.8), encrypted storage, no public endpoint, TLS forced."""
    db = _only(stage.resources("data", "AWS::RDS::DBInstance"))
    assert ("postgres", "17") == (db["Engine"], db["EngineVersion"].split(".")[0])
    assert db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert "{{resolve:secretsmanager:" in json.dumps(db["MasterUserPassword"])
    params = _only(stage.resources("data", "AWS::RDS::DBParameterGroup"))["Parameters"]
    assert "1" == params["rds.force_ssl"]


def test_prod_database_is_multi_az_protected_and_backed_up(prod: Any) -> None:
    """Prod survives an AZ loss, a stray delete and a bad migration (14 days of backups)."""
    db = _only(prod.resources("data", "AWS::RDS::DBInstance"))
    assert (True, True, 14) == (
        db["MultiAZ"],
        db["DeletionProtection"],
        db["BackupRetentionPeriod"],
    )
    instance = next(iter(prod.resources("data", "AWS::RDS::DBInstance").values()))
    assert "Snapshot" == instance["DeletionPolicy"]


def test_user_pool_enforces_the_password_policy(stage: Any) -> None:
    """Passwords need 8+ characters with upper, lower and digits; the client has no secret."""
    pool = _only(stage.resources("data", "AWS::Cognito::UserPool"))
    assert {
        "MinimumLength": 8,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": False,
        "RequireUppercase": True,
        "TemporaryPasswordValidityDays": 3,
    } == pool["Policies"]["PasswordPolicy"]
    assert ["email"] == pool["UsernameAttributes"]
    client = _only(stage.resources("data", "AWS::Cognito::UserPoolClient"))
    assert client["GenerateSecret"] is False
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} == set(
        client["ExplicitAuthFlows"]
    )


def test_access_tokens_live_fifteen_minutes_and_can_be_revoked(stage: Any) -> None:
    """Tokens verified locally outlive a sign-out until they expire, so they expire soon."""
    client = _only(stage.resources("data", "AWS::Cognito::UserPoolClient"))
    assert (15, 15, "minutes") == (
        client["AccessTokenValidity"],
        client["IdTokenValidity"],
        client["TokenValidityUnits"]["AccessToken"],
    )
    assert client["EnableTokenRevocation"] is True


def test_prod_retains_data_and_dev_does_not(dev: Any, prod: Any) -> None:
    """Deleting the prod stack keeps bucket, table and users; dev cleans up after itself."""
    for kind in ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::Cognito::UserPool"):
        assert "Retain" == next(iter(prod.resources("data", kind).values()))["DeletionPolicy"]
        assert "Delete" == next(iter(dev.resources("data", kind).values()))["DeletionPolicy"]
