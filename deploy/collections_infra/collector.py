"""The AWS Distro for OpenTelemetry collector beside each service (``-c collector=true``).

How the services' telemetry reaches AWS when it is on:

- **Metrics**: the collector scrapes the service's ``/metrics`` on localhost every 60 s and
  writes them to CloudWatch Logs in the embedded metric format (log group
  ``/collections/<stage>/metrics``). Only the series named in :data:`METRICS` become CloudWatch
  metrics (namespace ``Collections``, with the dimensions listed); every other series stays in the
  log, where Logs Insights can query it without a per-metric charge.
- **Traces**: the service exports OTLP over HTTP to the collector (``OTEL_EXPORTER_OTLP_ENDPOINT``
  is set for it), which sends them to AWS X-Ray.

Off by default: the alarms do not need it (they use the load balancer's and SQS's own metrics,
and log metric filters), and each CloudWatch metric and X-Ray trace is billed.
"""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from collections_infra.catalog import ServiceSpec
from collections_infra.config import StageConfig

IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
OTLP_HTTP = "127.0.0.1:4318"
NAMESPACE = "Collections"
METRICS: dict[str, list[list[str]]] = {
    "collections_http_requests_total": [["service", "route", "status"]],
    "collections_http_request_duration_seconds": [["service", "route"]],
    "collections_messages_total": [["queue", "outcome"], ["queue", "outcome", "reason"]],
    "collections_work_duration_seconds": [["queue"]],
    "collections_queue_lag_seconds": [["queue"]],
    "collections_messages_in_flight": [["queue"]],
    "collections_provider_calls_total": [["provider", "operation", "outcome"]],
    "collections_provider_tokens_total": [["provider", "direction"]],
    "collections_search_duration_seconds": [["mode"]],
    "collections_items": [["status"]],
}
"""Series extracted as CloudWatch metrics, each with its sets of dimensions."""


def metrics_log_group(config: StageConfig) -> str:
    return f"/collections/{config.stage}/metrics"


def collector_config(spec: ServiceSpec, config: StageConfig) -> str:
    """The collector's configuration for one service (JSON, which YAML reads as is)."""
    declarations = [
        {"dimensions": dimensions, "metric_name_selectors": [f"^{name}$"]}
        for name, dimensions in METRICS.items()
    ]
    document = {
        "receivers": {
            "otlp": {"protocols": {"http": {"endpoint": OTLP_HTTP}}},
            "prometheus": {
                "config": {
                    "scrape_configs": [
                        {
                            "job_name": f"collections-{spec.name}",
                            "scrape_interval": "60s",
                            "static_configs": [{"targets": [f"127.0.0.1:{spec.port}"]}],
                        }
                    ]
                }
            },
        },
        "processors": {"batch": {}},
        "exporters": {
            "awsemf": {
                "namespace": NAMESPACE,
                "log_group_name": metrics_log_group(config),
                "log_stream_name": spec.name,
                "dimension_rollup_option": "NoDimensionRollup",
                "metric_declarations": declarations,
            },
            "awsxray": {},
        },
        "service": {
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["batch"],
                    "exporters": ["awsemf"],
                },
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["awsxray"],
                },
            }
        },
    }
    return json.dumps(document, separators=(",", ":"))


def add_collector(
    task_definition: ecs.FargateTaskDefinition,
    spec: ServiceSpec,
    config: StageConfig,
    log_group: logs.ILogGroup,
) -> dict[str, str]:
    """Add the sidecar and its permissions; the environment the service needs to use it."""
    task_definition.add_container(
        "collector",
        image=ecs.ContainerImage.from_registry(IMAGE),
        essential=False,  # losing telemetry must never stop the service
        memory_reservation_mib=64,
        environment={"AOT_CONFIG_CONTENT": collector_config(spec, config)},
        readonly_root_filesystem=True,
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=f"{spec.name}-collector",
            log_group=log_group,
            mode=ecs.AwsLogDriverMode.NON_BLOCKING,
        ),
    )
    stack = Stack.of(task_definition)
    group_arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{metrics_log_group(config)}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    role = task_definition.task_role
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[group_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            # X-Ray has no resource-level permissions for these: "*" is the only resource.
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            resources=["*"],
        )
    )
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{OTLP_HTTP}"}
