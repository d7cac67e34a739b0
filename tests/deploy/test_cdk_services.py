"""The services stack: least-privilege roles, hardened tasks, HTTPS in front, migrations first."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from collections_infra.catalog import SERVICES, Kind

DATA_PREFIXES = ("s3:", "sqs:", "dynamodb:", "events:", "cognito-idp:", "secretsmanager:")
WORKERS = [spec.name for spec in SERVICES if spec.kind is Kind.WORKER]


def _statements(synth: Any, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline policies attached to one role."""
    statements: list[dict[str, Any]] = []
    for policy in synth.resources("services", "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_no_data_action_is_granted_on_every_resource(stage: Any) -> None:
    """No S3, SQS, DynamoDB, events, Cognito or secrets action has ``Resource: "*"``."""
    for template in stage.templates.values():
        for policy in template["Resources"].values():
            if policy["Type"] != "AWS::IAM::Policy":
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                data_actions = [a for a in _actions(statement) if a.startswith(DATA_PREFIXES)]
                resources = statement["Resource"]
                assert not (
                    data_actions
                    and "*" in (resources if isinstance(resources, list) else [resources])
                ), statement


@pytest.mark.parametrize("worker", WORKERS)
def test_each_worker_consumes_only_its_own_queue(stage: Any, worker: str) -> None:
    """A worker's role names one queue (its own) in every SQS statement, and no DLQ."""
    messaging = stage.built.data.messaging
    own = stage.logical_id(messaging.queues[worker])
    others = [stage.logical_id(q) for q in [*messaging.queues.values(), *messaging.dlqs.values()]]
    others.remove(own)
    sqs = [
        s
        for s in _statements(stage, stage.task_role(worker))
        if any(a.startswith("sqs:") for a in _actions(s))
    ]
    assert sqs, worker
    for statement in sqs:
        text = json.dumps(statement["Resource"])
        assert own in text
        assert not any(other in text for other in others)
        assert "sqs:ReceiveMessage" in _actions(statement)


def test_services_without_a_queue_get_no_sqs_access(stage: Any) -> None:
    """Gateway, search and chat neither read nor send SQS messages."""
    for service in ("gateway", "search", "chat"):
        actions = [a for s in _statements(stage, stage.task_role(service)) for a in _actions(s)]
        assert [] == [a for a in actions if a.startswith("sqs:")]


def test_s3_access_is_per_prefix_and_per_service(stage: Any) -> None:
    """Each role gets only the object actions, on only the key prefixes, that its code uses."""

    def object_grants(service: str) -> dict[str, set[str]]:
        grants: dict[str, set[str]] = {}
        for statement in _statements(stage, stage.task_role(service)):
            for action in _actions(statement):
                if action.startswith("s3:") and action != "s3:ListBucket":
                    # {"Fn::Join": ["", [<bucket arn>, "/*/derived/*"]]}
                    pattern = statement["Resource"]["Fn::Join"][1][-1]
                    grants.setdefault(pattern, set()).add(action)
        return grants

    assert {
        "/*/images/*": {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
        "/*/derived/*": {"s3:GetObject", "s3:DeleteObject"},
    } == object_grants("gateway")
    assert {
        "/*/images/*": {"s3:GetObject", "s3:DeleteObject"},
        "/*/derived/*": {"s3:PutObject", "s3:DeleteObject"},
    } == object_grants("ingest")
    assert {"/*/derived/*": {"s3:GetObject"}} == object_grants("analyzer")
    assert {"/*/derived/*": {"s3:GetObject"}} == object_grants("search")
    assert {} == object_grants("embedder")
    assert {} == object_grants("chat")


def test_publishers_may_only_put_events_with_their_own_source(stage: Any) -> None:
    """PutEvents is conditioned on ``events:source = collections.<service>``."""
    for service in ("gateway", "ingest", "analyzer", "embedder"):
        puts = [
            s
            for s in _statements(stage, stage.task_role(service))
            if "events:PutEvents" in _actions(s)
        ]
        assert [{"StringEquals": {"events:source": f"collections.{service}"}}] == [
            s["Condition"] for s in puts
        ]
    for service in ("search", "chat"):
        actions = [a for s in _statements(stage, stage.task_role(service)) for a in _actions(s)]
        assert "events:PutEvents" not in actions


def test_only_chat_uses_the_table_and_never_scans(stage: Any) -> None:
    """The chat role has item access to its table, without Scan; no one else has any."""
    for spec in SERVICES:
        actions = [a for s in _statements(stage, stage.task_role(spec.name)) for a in _actions(s)]
        dynamo = {a for a in actions if a.startswith("dynamodb:")}
        if spec.name == "chat":
            assert {"dynamodb:Query", "dynamodb:PutItem"} <= dynamo
            assert "dynamodb:Scan" not in dynamo
        else:
            assert set() == dynamo, spec.name


def test_no_role_may_administer_cognito(stage: Any) -> None:
    """Sign-up and sign-in are public-client calls; no role can auto-confirm users in AWS."""
    for spec in SERVICES:
        actions = [a for s in _statements(stage, stage.task_role(spec.name)) for a in _actions(s)]
        assert [] == [a for a in actions if a.startswith("cognito-idp:")], spec.name
        env = {e["Name"] for e in stage.container(spec.name)["Environment"]}
        assert "LOCAL_SIGNUP_AUTO_CONFIRM" not in env


def test_containers_are_hardened_and_health_checked(stage: Any) -> None:
    """Read-only root, a health check on /health, logs with retention, passwords as secrets."""
    groups = stage.resources("services", "AWS::Logs::LogGroup")
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    for spec in SERVICES:
        container = stage.container(spec.name)
        assert container["ReadonlyRootFilesystem"] is True
        assert ["CMD", "python", "/app/healthcheck.py"] == container["HealthCheck"]["Command"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert "0.0.0.0" == env[f"{spec.name.upper()}_HOST"]  # noqa: S104 - what we check for
        assert str(spec.port) == env[f"{spec.name.upper()}_PORT"]
        assert "PGPASSWORD" in {s["Name"] for s in container["Secrets"]}
        assert "password" not in json.dumps(env).lower().replace("pgpassword", "")


def test_service_env_from_context_reaches_only_its_service(prod: Any) -> None:
    """``serviceEnv`` sets a gateway setting in the gateway's container and nowhere else."""
    for spec in SERVICES:
        env = {e["Name"]: e["Value"] for e in prod.container(spec.name)["Environment"]}
        expected = "200" if spec.name == "gateway" else None
        assert expected == env.get("GATEWAY_RATE_LIMIT_PER_MINUTE"), spec.name


def test_album_links_point_at_the_web_uis_origin(prod: Any) -> None:
    """The gateway makes shared-album links on the public HTTPS origin (no other service knows)."""
    for spec in SERVICES:
        env = {e["Name"]: e["Value"] for e in prod.container(spec.name)["Environment"]}
        expected = "https://photos.example.com" if spec.name == "gateway" else None
        assert expected == env.get("GATEWAY_PUBLIC_URL"), spec.name


def test_provider_keys_reach_only_the_services_that_call_providers(stage: Any) -> None:
    """Anthropic and Voyage keys come from Secrets Manager, only where the catalog says."""
    for spec in SERVICES:
        secrets = {s["Name"] for s in stage.container(spec.name)["Secrets"]} - {"PGPASSWORD"}
        assert set(spec.provider_keys) == secrets, spec.name


def test_the_tavily_key_reaches_chat_alone_from_the_named_secret(
    synthesize: Callable[..., Any], cfn_lint: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """With ``tavilySecret`` chat gets TAVILY_API_KEY from that secret (valid CloudFormation)."""
    synth = synthesize("dev", tavilySecret="collections/tavily")
    for spec in SERVICES:
        secrets = {s["Name"]: s["ValueFrom"] for s in synth.container(spec.name)["Secrets"]}
        assert (spec.name == "chat") == ("TAVILY_API_KEY" in secrets), spec.name
    value_from = json.dumps(synth.container("chat")["Secrets"])
    assert "secret:collections/tavily" in value_from
    result = cfn_lint(list(synth.outdir.glob("*.template.json")))
    assert 0 == result.returncode, result.stdout + result.stderr


def test_workers_scale_on_their_queue_depth(stage: Any) -> None:
    """Each worker has a step-scaling alarm on its own queue's visible messages."""
    alarms = stage.resources("services", "AWS::CloudWatch::Alarm").values()
    watched = {
        json.dumps(a["Properties"]["Dimensions"])
        for a in alarms
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    for worker in WORKERS:
        queue = stage.logical_id(stage.built.data.messaging.queues[worker])
        assert any(queue in dims for dims in watched), worker


def test_prod_gateway_is_https_only(prod: Any) -> None:
    """443 with the certificate and a modern TLS policy; port 80 only redirects."""
    listeners = [
        r["Properties"]
        for r in prod.resources("services", "AWS::ElasticLoadBalancingV2::Listener").values()
    ]
    by_port = {listener["Port"]: listener for listener in listeners}
    assert {80, 443} == set(by_port)
    https = by_port[443]
    assert "HTTPS" == https["Protocol"]
    assert [
        {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0000-test"}
    ] == https["Certificates"]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert "redirect" == by_port[80]["DefaultActions"][0]["Type"]
    assert "HTTPS" == by_port[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"]


def test_internal_services_admit_only_the_gateway(stage: Any) -> None:
    """Search and chat accept connections from the gateway's security group alone."""
    apps = stage.built.services.apps
    gateway_group = stage.logical_id(apps["gateway"].security_group)
    for name in ("search", "chat"):
        group = stage.logical_id(apps[name].security_group)
        ingress = [
            r["Properties"]
            for r in stage.resources("services", "AWS::EC2::SecurityGroupIngress").values()
            if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
        ]
        assert [{"Fn::GetAtt": [gateway_group, "GroupId"]}] == [
            i["SourceSecurityGroupId"] for i in ingress
        ]


def test_tasks_run_in_private_subnets_without_public_ips(stage: Any) -> None:
    """No task is reachable from the internet; outbound goes through NAT."""
    private = {stage.logical_id(subnet) for subnet in stage.built.data.network.vpc.private_subnets}
    for spec in SERVICES:
        service = stage.logical_id(stage.built.services.apps[spec.name].service)
        network = stage.template("services")["Resources"][service]["Properties"][
            "NetworkConfiguration"
        ]["AwsvpcConfiguration"]
        assert "DISABLED" == network["AssignPublicIp"]
        assert len(private) == len(network["Subnets"])
        assert all(any(p in json.dumps(s) for p in private) for s in network["Subnets"])


def test_dev_uses_a_nat_instance_and_prod_a_nat_gateway(dev: Any, prod: Any) -> None:
    """Dev saves the NAT gateway's fixed cost; prod uses the managed, redundant one."""
    assert 1 == len(dev.resources("data", "AWS::EC2::Instance"))
    assert {} == dev.resources("data", "AWS::EC2::NatGateway")
    assert {} == prod.resources("data", "AWS::EC2::Instance")
    assert 1 == len(prod.resources("data", "AWS::EC2::NatGateway"))


def test_services_start_after_the_migration_task(stage: Any) -> None:
    """Every ECS service depends on the migration custom resource, which runs as the owner."""
    resources = stage.template("services")["Resources"]
    migration = stage.logical_id(stage.built.services.migrations.resource)
    assert "Custom::CollectionsMigrations" == resources[migration]["Type"]
    for spec in SERVICES:
        service = stage.logical_id(stage.built.services.apps[spec.name].service)
        assert migration in resources[service]["DependsOn"], spec.name
