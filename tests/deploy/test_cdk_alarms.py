"""Alarms on failure rates and the hidden /metrics endpoint, in the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

from collections_infra.catalog import SERVICES, Kind

WORKERS = [spec.name for spec in SERVICES if spec.kind is Kind.WORKER]


def _alarms(stage: Any) -> list[dict[str, Any]]:
    return [a["Properties"] for a in stage.resources("services", "AWS::CloudWatch::Alarm").values()]


def _expression(alarm: dict[str, Any]) -> str:
    return next((m["Expression"] for m in alarm.get("Metrics", []) if "Expression" in m), "")


def _notifies_the_alarm_topic(stage: Any, alarm: dict[str, Any]) -> bool:
    """The one action is the data stack's alarm topic (referenced across stacks)."""
    topic = str(stage.logical_id(stage.built.data.messaging.alarm_topic))
    return len(alarm["AlarmActions"]) == 1 and topic in json.dumps(alarm["AlarmActions"])


def test_each_worker_alarms_on_its_failure_rate_from_its_logs(stage: Any) -> None:
    """Failed / handled work per worker above 10% in 15 minutes, counted by log metric filters."""
    filters = [
        f["Properties"] for f in stage.resources("services", "AWS::Logs::MetricFilter").values()
    ]
    for worker in WORKERS:
        group = stage.logical_id(stage.built.services.apps[worker].log_group)
        mine = {
            f["MetricTransformations"][0]["MetricName"]: f["FilterPattern"]
            for f in filters
            if f["LogGroupName"] == {"Ref": group}
        }
        assert {"WorkFailed", "WorkProcessed"} == set(mine), worker
        assert '$.outcome = "failed"' in mine["WorkFailed"]
        assert '$.event = "work_processed"' in mine["WorkProcessed"]
        rate = [
            a
            for a in _alarms(stage)
            if "100 * failed / handled" in _expression(a) and worker in json.dumps(a["Metrics"])
        ]
        assert 1 == len(rate), worker
        assert (10, "GreaterThanThreshold") == (rate[0]["Threshold"], rate[0]["ComparisonOperator"])
        assert _notifies_the_alarm_topic(stage, rate[0])


def test_the_gateway_alarms_on_its_5xx_rate(stage: Any) -> None:
    """Target and load balancer 5xx over 5% of requests (at least 20) notify the alarm topic."""
    (alarm,) = [a for a in _alarms(stage) if "elb_errors" in _expression(a)]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    assert "HTTPCode_Target_5XX_Count" == metrics["errors"]["MetricStat"]["Metric"]["MetricName"]
    assert "HTTPCode_ELB_5XX_Count" == metrics["elb_errors"]["MetricStat"]["Metric"]["MetricName"]
    assert "RequestCount" == metrics["requests"]["MetricStat"]["Metric"]["MetricName"]
    assert "requests >= 20" in _expression(alarm)
    assert 5 == alarm["Threshold"]
    assert _notifies_the_alarm_topic(stage, alarm)


def test_every_queue_alarms_when_its_oldest_message_ages(stage: Any) -> None:
    """Each worker queue's ApproximateAgeOfOldestMessage above 15 minutes raises an alarm."""
    alarms = [a["Properties"] for a in stage.resources("data", "AWS::CloudWatch::Alarm").values()]
    aged = [a for a in alarms if a.get("MetricName") == "ApproximateAgeOfOldestMessage"]
    assert len(WORKERS) == len(aged)
    assert {900} == {a["Threshold"] for a in aged}


def test_metrics_are_not_served_to_the_internet(stage: Any) -> None:
    """The load balancer answers /metrics itself with a 404; only collectors in the task see it."""
    rules = [
        r["Properties"]
        for r in stage.resources("services", "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    ]
    hidden = [
        rule
        for rule in rules
        if {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/metrics"]}}
        in rule["Conditions"]
    ]
    assert hidden, rules
    for rule in hidden:
        (action,) = rule["Actions"]
        assert "fixed-response" == action["Type"]
        assert "404" == action["FixedResponseConfig"]["StatusCode"]


def _containers(synth: Any, service: str) -> dict[str, dict[str, Any]]:
    task = synth.logical_id(synth.built.services.apps[service].task_definition)
    definitions = synth.template("services")["Resources"][task]["Properties"]
    return {c["Name"]: c for c in definitions["ContainerDefinitions"]}


def test_no_collector_runs_unless_asked_for(stage: Any) -> None:
    """By default each task has its one container and no OTLP endpoint: tracing stays off."""
    for spec in SERVICES:
        containers = _containers(stage, spec.name)
        assert ["app"] == list(containers)
        names = {e["Name"] for e in containers["app"].get("Environment", [])}
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in names


def test_the_collector_scrapes_metrics_and_forwards_traces(synthesize: Any) -> None:
    """With collector=true every task gets a non-essential ADOT sidecar scraping its /metrics into
    EMF and sending traces to X-Ray; the app exports OTLP to it; the role may write just that."""
    synth = synthesize("dev", collector="true")
    for spec in SERVICES:
        containers = _containers(synth, spec.name)
        assert {"app", "collector"} == set(containers)
        sidecar = containers["collector"]
        assert sidecar["Essential"] is False
        env = {e["Name"]: e["Value"] for e in sidecar["Environment"]}
        config = json.loads(env["AOT_CONFIG_CONTENT"])
        scrape = config["receivers"]["prometheus"]["config"]["scrape_configs"][0]
        assert [f"127.0.0.1:{spec.port}"] == scrape["static_configs"][0]["targets"]
        assert "Collections" == config["exporters"]["awsemf"]["namespace"]
        assert ["awsxray"] == config["service"]["pipelines"]["traces"]["exporters"]
        app_env = {e["Name"]: e["Value"] for e in containers["app"]["Environment"]}
        assert "http://127.0.0.1:4318" == app_env["OTEL_EXPORTER_OTLP_ENDPOINT"]
        role = synth.task_role(spec.name)
        statements = [
            s
            for policy in synth.resources("services", "AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        logs = [s for s in statements if "logs:PutLogEvents" in s["Action"]]
        assert 1 == len(logs), spec.name
        assert "/collections/dev/metrics:*" in json.dumps(logs[0]["Resource"])
