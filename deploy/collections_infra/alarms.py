"""Alarms on what users notice: server errors, work that fails, and (in messaging) queues that age.

Each alarm notifies the stage's alarm topic. The queue alarms (a message in a DLQ, the oldest
message older than 15 minutes) are per queue in :mod:`collections_infra.messaging`; these are:

- **Gateway 5xx rate**: server errors over 5% of the gateway's requests in 5 minutes (from the
  load balancer's own metrics, at least 20 requests so one error at night does not page);
- **work failure rate**, per worker: more than 10% of its units of work ``failed`` in 15 minutes
  (at least 10 of them). Counted by CloudWatch Logs metric filters on the one JSON line each unit
  writes (``work_processed`` with its ``outcome``), so no agent or sidecar is needed for it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

NAMESPACE = "Collections"
SERVER_ERROR_PERCENT = 5
FAILED_WORK_PERCENT = 10


def _notify(alarm: cloudwatch.Alarm, topic: sns.ITopic) -> None:
    alarm.add_alarm_action(actions.SnsAction(topic))


def gateway_error_rate(
    scope: Construct,
    alb: elbv2.ApplicationLoadBalancer,
    targets: elbv2.ApplicationTargetGroup,
    topic: sns.ITopic,
) -> cloudwatch.Alarm:
    """5xx answers (the gateway's, and the load balancer's own when no task answered) over 5%
    of requests."""
    period = Duration.minutes(5)
    rate = cloudwatch.MathExpression(
        expression="IF(requests >= 20, "
        "100 * (FILL(errors, 0) + FILL(elb_errors, 0)) / requests, 0)",
        using_metrics={
            "errors": targets.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period
            ),
            "elb_errors": alb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period),
            "requests": alb.metrics.request_count(period=period),
        },
        period=period,
        label="Gateway 5xx, % of requests",
    )
    alarm = cloudwatch.Alarm(
        scope,
        "Gateway5xxRate",
        metric=rate,
        threshold=SERVER_ERROR_PERCENT,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=f"More than {SERVER_ERROR_PERCENT}% of gateway requests answered 5xx "
        "in 5 minutes.",
    )
    _notify(alarm, topic)
    return alarm


def _work_metric(
    scope: Construct, service: str, log_group: logs.ILogGroup, outcome: str | None
) -> cloudwatch.Metric:
    name = "WorkFailed" if outcome else "WorkProcessed"
    conditions = [logs.FilterPattern.string_value("$.event", "=", "work_processed")]
    if outcome:
        conditions.append(logs.FilterPattern.string_value("$.outcome", "=", outcome))
    metric_filter = logs.MetricFilter(
        scope,
        f"{service.capitalize()}{name}",
        log_group=log_group,
        filter_pattern=logs.FilterPattern.all(*conditions),
        metric_namespace=NAMESPACE,
        metric_name=name,
        metric_value="1",
        default_value=0,
        dimensions={"Service": "$.service"},
    )
    return metric_filter.metric(
        period=Duration.minutes(15),
        statistic="Sum",
        dimensions_map={"Service": service},
    )


def work_failure_rate(
    scope: Construct, service: str, log_group: logs.ILogGroup, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """Units of work of ``service`` that ended ``failed``, over 10% of all it handled."""
    rate = cloudwatch.MathExpression(
        expression="IF(handled >= 10, 100 * failed / handled, 0)",
        using_metrics={
            "failed": _work_metric(scope, service, log_group, "failed"),
            "handled": _work_metric(scope, service, log_group, None),
        },
        period=Duration.minutes(15),
        label=f"{service}: failed work, % of units",
    )
    alarm = cloudwatch.Alarm(
        scope,
        f"{service.capitalize()}FailureRate",
        metric=rate,
        threshold=FAILED_WORK_PERCENT,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=f"More than {FAILED_WORK_PERCENT}% of the {service}'s work failed in "
        "15 minutes: items are ending `failed` (see their stage and reason).",
    )
    _notify(alarm, topic)
    return alarm
