"""One Collections service on ECS Fargate: task definition, container, security group, scaling.

The container is the service's own image (``services/<name>/Dockerfile``): non-root, with a
read-only root filesystem and a scratch ``/tmp``; its health check is the image's
``/app/healthcheck.py`` (a GET of ``/health``), which ECS uses to replace sick tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from collections_infra.catalog import Kind, ServiceSpec
from collections_infra.collector import add_collector
from collections_infra.config import StageConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
HEALTHCHECK = ["CMD", "python", "/app/healthcheck.py"]


def image_for(scope: Construct, spec: ServiceSpec, config: StageConfig) -> ecs.ContainerImage:
    """Build the service's Dockerfile at deploy time, or use a prebuilt image from ECR."""
    if config.image_tag:
        repository = ecr.Repository.from_repository_name(
            scope, f"{spec.name.capitalize()}Repository", f"collections-{spec.name}"
        )
        return ecs.ContainerImage.from_ecr_repository(repository, config.image_tag)
    # The build context is the repository root; its .dockerignore keeps that context small.
    return ecs.ContainerImage.from_asset(
        str(REPO_ROOT),
        file=f"services/{spec.name}/Dockerfile",
        platform=ecr_assets.Platform.LINUX_ARM64
        if config.arm64
        else ecr_assets.Platform.LINUX_AMD64,
    )


@dataclass(frozen=True)
class Placement:
    """Where tasks run and how they find each other."""

    cluster: ecs.ICluster
    subnets: ec2.SubnetSelection
    namespace: servicediscovery.INamespace


class FargateApp(Construct):
    """``service``, ``task_definition``, ``container`` and ``security_group`` of one service."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: ServiceSpec,
        config: StageConfig,
        placement: Placement,
        image: ecs.ContainerImage,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
        command: list[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.log_group = logs.LogGroup(
            self, "Logs", retention=config.log_retention, removal_policy=_log_removal(config)
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=spec.compact_cpu if config.compact_tasks else spec.cpu,
            memory_limit_mib=spec.compact_memory_mib if config.compact_tasks else spec.memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64
                if config.arm64
                else ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.task_definition.add_volume(name="tmp")
        self.container = self.task_definition.add_container(
            "app",
            image=image,
            command=command,
            environment={
                "LOG_FORMAT": "json",
                # The root filesystem is read-only; anything that caches goes to /tmp.
                "XDG_CACHE_HOME": "/tmp/cache",  # noqa: S108 - the task's private scratch volume
                f"{spec.name.upper()}_HOST": "0.0.0.0",  # noqa: S104 - inside the task's own ENI
                f"{spec.name.upper()}_PORT": str(spec.port),
                **environment,
            },
            secrets=dict(secrets),
            port_mappings=[ecs.PortMapping(container_port=spec.port, name=spec.name)],
            health_check=ecs.HealthCheck(
                command=HEALTHCHECK,
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(60),
            ),
            readonly_root_filesystem=True,
            stop_timeout=Duration.seconds(spec.stop_timeout_seconds),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=spec.name,
                log_group=self.log_group,
                # A slow CloudWatch must never block the event loop writing a log line.
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
                max_buffer_size=Size.mebibytes(25),
            ),
        )
        self.container.add_mount_points(
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False)  # noqa: S108
        )
        if config.collector:
            for name, value in add_collector(
                self.task_definition, spec, config, self.log_group
            ).items():
                self.container.add_environment(name, value)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=placement.cluster.vpc, description=f"{spec.name} tasks"
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=placement.cluster,
            task_definition=self.task_definition,
            desired_count=_min_tasks(spec, config),
            security_groups=[self.security_group],
            vpc_subnets=placement.subnets,
            assign_public_ip=False,
            capacity_provider_strategies=[
                ecs.CapacityProviderStrategy(
                    capacity_provider="FARGATE_SPOT" if config.fargate_spot else "FARGATE",
                    weight=1,
                )
            ],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(60)
            if spec.kind is Kind.PUBLIC_HTTP
            else None,
            cloud_map_options=ecs.CloudMapOptions(
                cloud_map_namespace=placement.namespace,
                name=spec.name,
                dns_ttl=Duration.seconds(10),
            )
            if spec.kind is Kind.INTERNAL_HTTP
            else None,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        self.scaling = self.service.auto_scale_task_count(
            min_capacity=_min_tasks(spec, config), max_capacity=_max_tasks(spec, config)
        )

    def scale_on_cpu(self) -> None:
        self.scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=60,
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )

    def scale_on_queue(self, queue: sqs.IQueue) -> None:
        """Add tasks while messages wait; remove them (down to the minimum) when none do."""
        self.scaling.scale_on_metric(
            "QueueDepth",
            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            scaling_steps=[
                {"upper": 0, "change": -1},
                {"lower": 1, "change": +1},
                {"lower": 100, "change": +3},
            ],
            cooldown=Duration.minutes(2),
        )


def _min_tasks(spec: ServiceSpec, config: StageConfig) -> int:
    return config.worker_min_tasks if spec.kind is Kind.WORKER else config.http_min_tasks


def _max_tasks(spec: ServiceSpec, config: StageConfig) -> int:
    return config.worker_max_tasks if spec.kind is Kind.WORKER else config.http_max_tasks


def _log_removal(config: StageConfig) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
