"""The event bus, one queue per consumer with its DLQ, the routing rules and the DLQ alarms.

The queues and routes come from :mod:`collections_shared.topology`, which the local stack's
provisioning reads too: ObjectCreated (from the bucket) and ``ReprocessRequested`` → ingest,
``ImageProcessed`` and ``AnalysisRequested`` → analyzer, ``AnalysisComplete`` and
``ReindexRequested`` → embedder. A message that fails ``MAX_RECEIVE_COUNT`` times moves to the
DLQ; anything in a DLQ is an item stuck short of ``searchable``, so each DLQ has an alarm at one
visible message.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from collections_infra.config import StageConfig
from collections_shared import topology

MAX_RECEIVE_COUNT = topology.MAX_RECEIVE_COUNT
RETENTION = Duration.seconds(topology.RETENTION_SECONDS)


@dataclass(frozen=True)
class QueueSpec:
    consumer: str
    visibility_timeout: Duration
    """Short (15 s): the consumers' heartbeat extends it while they work (docs/reliability.md)."""


QUEUES = tuple(
    QueueSpec(queue.consumer, Duration.seconds(queue.visibility_timeout))
    for queue in topology.QUEUES
)

ROUTES = {detail_type: queue.consumer for detail_type, queue in topology.routes().items()}


class Messaging(Construct):
    """Queues (``queues[consumer]``), their DLQs, the bus, its rules and the alarm topic."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = sns.Topic(self, "Alarms", enforce_ssl=True)
        if config.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.queues: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        for spec in QUEUES:
            self._add_queue(config, spec)
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.prefix)
        for detail_type, consumer in ROUTES.items():
            events.Rule(
                self,
                f"{detail_type}Rule",
                event_bus=self.bus,
                description=f"{detail_type} events to the {consumer} queue",
                event_pattern=events.EventPattern(
                    detail_type=[detail_type],
                    source=events.Match.prefix("collections."),
                ),
                targets=[targets.SqsQueue(self.queues[consumer])],
            )

    def _add_queue(self, config: StageConfig, spec: QueueSpec) -> None:
        name = f"{config.prefix}-{spec.consumer}"
        dlq = sqs.Queue(
            self,
            f"{spec.consumer.capitalize()}Dlq",
            queue_name=f"{name}-dlq",
            retention_period=RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        queue = sqs.Queue(
            self,
            f"{spec.consumer.capitalize()}Queue",
            queue_name=name,
            visibility_timeout=spec.visibility_timeout,
            retention_period=RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.queues[spec.consumer] = queue
        self.dlqs[spec.consumer] = dlq
        self._alarm(
            f"{spec.consumer.capitalize()}DlqNotEmpty",
            dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            threshold=0,
            description=f"Messages the {spec.consumer} gave up on: redrive them after a fix.",
        )
        self._alarm(
            f"{spec.consumer.capitalize()}Backlog",
            queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(5)),
            threshold=Duration.minutes(15).to_seconds(),
            description=f"The {spec.consumer} queue is not draining (oldest message > 15 min).",
        )

    def _alarm(
        self, construct_id: str, metric: cloudwatch.Metric, *, threshold: float, description: str
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric.with_(statistic=cloudwatch.Stats.MAXIMUM),
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))
