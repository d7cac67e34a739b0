"""Database migrations as a deploy step: a one-off Fargate task behind a custom resource.

``python -m collections_shared.migrate`` runs in a service image as the owner role, creates the
schema, the extensions (vector, pg_trgm) and the ``collections_app`` role with the generated
password, then exits. The custom resource waits for the exit code, and every service depends on
it, so CloudFormation starts new code only after its schema is in place. The task definition
changes with the image, so each deploy with new code (and thus new migrations) runs it again;
the runner is idempotent and takes an advisory lock, so a re-run is harmless.

The owner's password exists only in this task's environment, never in a service's.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from collections_infra.config import StageConfig
from collections_infra.database import OWNER, Database
from collections_infra.migration_runner.handler import CONTAINER
from collections_infra.service import Placement

HANDLER_DIR = Path(__file__).parent / "migration_runner"


class Migrations(Construct):
    """``resource``: the custom resource the services depend on."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        placement: Placement,
        image: ecs.ContainerImage,
        database: Database,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        log_group = logs.LogGroup(
            self, "Logs", retention=config.log_retention, removal_policy=removal
        )
        task = ecs.FargateTaskDefinition(self, "Task", cpu=256, memory_limit_mib=512)
        task.add_container(
            CONTAINER,
            image=image,
            command=["python", "-m", "collections_shared.migrate"],
            environment={"MIGRATE_DATABASE_URL": database.url(OWNER), "LOG_FORMAT": "json"},
            secrets={
                "PGPASSWORD": ecs.Secret.from_secrets_manager(database.owner_secret, "password"),
                "APP_DATABASE_PASSWORD": ecs.Secret.from_secrets_manager(
                    database.app_secret, "password"
                ),
            },
            readonly_root_filesystem=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="migrate", log_group=log_group),
        )
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=placement.cluster.vpc, description="migration task"
        )
        database.allow_from(self, self.security_group, "migrations")

        handler_role = iam.Role(
            self, "HandlerRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
        )
        handler_logs = logs.LogGroup(
            self, "HandlerLogs", retention=config.log_retention, removal_policy=removal
        )
        handler_logs.grant_write(handler_role)
        # RunTask on this task definition (and PassRole for its two roles), DescribeTasks on
        # the cluster's tasks: nothing else.
        task.grant_run(handler_role)
        handler_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"], resources=[_tasks_of(placement.cluster)]
            )
        )
        functions = {
            name: lambda_.Function(
                self,
                f"{name.capitalize()}Handler",
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.ARM_64,
                code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__"]),
                handler=f"handler.{name}",
                timeout=Duration.minutes(1),
                role=handler_role,
                log_group=handler_logs,
            )
            for name in ("on_event", "is_complete")
        }
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=functions["on_event"],
            is_complete_handler=functions["is_complete"],
            query_interval=Duration.seconds(15),
            total_timeout=Duration.minutes(30),
            log_group=handler_logs,
        )
        self.resource = CustomResource(
            self,
            "Run",
            service_token=provider.service_token,
            resource_type="Custom::CollectionsMigrations",
            properties={
                "Cluster": placement.cluster.cluster_name,
                "TaskDefinition": task.task_definition_arn,
                "Subnets": placement.cluster.vpc.select_subnets(
                    subnet_type=placement.subnets.subnet_type
                ).subnet_ids,
                "SecurityGroups": [self.security_group.security_group_id],
                "AssignPublicIp": "DISABLED",
            },
        )
        self.resource.node.add_dependency(database.instance)


def _tasks_of(cluster: ecs.ICluster) -> str:
    """ARN pattern of the cluster's tasks (DescribeTasks is authorised per task ARN)."""
    return Stack.of(cluster).format_arn(
        service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*"
    )
