"""The stateless half: the ECS cluster, the public load balancer, six services, migrations.

All six run on Fargate. The three workers are long-running asyncio SQS consumers that also serve
``/health`` and drain on SIGTERM: on Fargate they run unchanged, scaled on their queue's depth,
where Lambda would need a second entry point and per-invocation database connections (or RDS
Proxy, about $11 a month more) for the same work.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnOutput, Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from collections_infra import alarms, bedrock
from collections_infra.catalog import SERVICES, Kind, ServiceSpec
from collections_infra.config import StageConfig
from collections_infra.data_stack import DataStack
from collections_infra.database import APP_ROLE
from collections_infra.migration import Migrations
from collections_infra.permissions import grant
from collections_infra.service import FargateApp, Placement, image_for


class ServicesStack(Stack):
    """``apps[name]`` for each service, ``load_balancer`` in front of the gateway."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        data: DataStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.data = data
        vpc = data.network.vpc
        cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            enable_fargate_capacity_providers=True,
            container_insights_v2=ecs.ContainerInsights.ENABLED
            if config.container_insights
            else ecs.ContainerInsights.DISABLED,
        )
        namespace = servicediscovery.PrivateDnsNamespace(
            self, "Namespace", name=f"{config.prefix}.internal", vpc=vpc
        )
        self.placement = Placement(
            cluster=cluster,
            subnets=data.network.app_subnets,
            namespace=namespace,
        )
        images = {spec.name: image_for(self, spec, config) for spec in SERVICES}
        self.migrations = Migrations(
            self,
            "Migrations",
            config=config,
            placement=self.placement,
            image=images["gateway"],
            database=data.database,
        )
        self.apps: dict[str, FargateApp] = {}
        for spec in SERVICES:
            app = FargateApp(
                self,
                spec.name.capitalize(),
                spec=spec,
                config=config,
                placement=self.placement,
                image=images[spec.name],
                environment=self._environment(spec, namespace.namespace_name),
                secrets=self._secrets(spec),
            )
            grant(spec, app.task_definition.task_role, data)
            bedrock.grant_invoke(spec.name, app.task_definition.task_role, config)
            data.database.allow_from(app, app.security_group, spec.name)
            app.service.node.add_dependency(self.migrations.resource)
            if spec.kind is Kind.WORKER:
                app.scale_on_queue(data.messaging.queues[spec.name])
                alarms.work_failure_rate(app, spec.name, app.log_group, data.messaging.alarm_topic)
            else:
                app.scale_on_cpu()
            self.apps[spec.name] = app
        for internal in ("search", "chat"):
            target = self.apps[internal]
            target.security_group.add_ingress_rule(
                self.apps["gateway"].security_group,
                ec2.Port.tcp(target.spec.port),
                f"gateway to {internal}",
            )
        self.load_balancer = self._load_balancer(self.apps["gateway"])

    def _environment(self, spec: ServiceSpec, namespace: str) -> dict[str, str]:
        data = self.data
        env = {
            "AWS_REGION": Stack.of(self).region,
            "BUCKET": data.images.bucket.bucket_name,
            "EVENT_BUS": data.messaging.bus.event_bus_name,
            "COGNITO_USER_POOL_ID": data.identity.user_pool.user_pool_id,
            "COGNITO_CLIENT_ID": data.identity.client.user_pool_client_id,
            "DATABASE_URL": data.database.url(APP_ROLE),
            "LOG_LEVEL": "info",
        }
        if spec.kind is Kind.WORKER:
            env[f"{spec.name.upper()}_QUEUE_URL"] = data.messaging.queues[spec.name].queue_url
        if spec.name == "gateway":
            env["SEARCH_URL"] = f"http://search.{namespace}:8004"
            env["CHAT_URL"] = f"http://chat.{namespace}:8005"
            if self.config.origins:
                env["CORS_ORIGINS"] = ",".join(self.config.origins)
                # Album links point at the web UI's origin, not at what the load balancer saw.
                env["GATEWAY_PUBLIC_URL"] = self.config.origins[0]
        if spec.name == "chat":
            env["CHAT_TABLE"] = data.chat.table.table_name
        env.update(bedrock.environment(spec.name, self.config))
        return {**env, **self.config.service_env.get(spec.name, {})}

    def _secrets(self, spec: ServiceSpec) -> dict[str, ecs.Secret]:
        """Injected by the task's execution role at start; never in the template."""
        secrets = {
            "PGPASSWORD": ecs.Secret.from_secrets_manager(self.data.database.app_secret, "password")
        }
        for key in spec.provider_keys:
            secrets[key] = ecs.Secret.from_secrets_manager(self.data.provider_keys, key)
        if spec.name == "chat" and self.config.tavily_secret:
            # An existing secret, referenced by name: the key is never in the repo or template.
            tavily = secretsmanager.Secret.from_secret_name_v2(
                self, "TavilyKey", self.config.tavily_secret
            )
            secrets["TAVILY_API_KEY"] = ecs.Secret.from_secrets_manager(tavily)
        return secrets

    def _load_balancer(self, gateway: FargateApp) -> elbv2.ApplicationLoadBalancer:
        config = self.config
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.data.network.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            drop_invalid_header_fields=True,
            # Server-sent events (/events, /chat/stream) idle between messages.
            idle_timeout=Duration.seconds(120),
        )
        if config.certificate_arn:
            listener = alb.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[
                    acm.Certificate.from_certificate_arn(
                        self, "Certificate", config.certificate_arn
                    )
                ],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            )
            alb.add_redirect(source_port=80, target_port=443)
            scheme = "https"
        else:
            Annotations.of(self).add_warning_v2(
                "collections:plain-http",
                "No certificateArn: the gateway is served over plain HTTP (dev smoke tests only).",
            )
            listener = alb.add_listener("Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP)
            scheme = "http"
        targets = listener.add_targets(
            "Gateway",
            port=gateway.spec.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[
                gateway.service.load_balancer_target(
                    container_name="app", container_port=gateway.spec.port
                )
            ],
            health_check=elbv2.HealthCheck(
                path="/health", healthy_http_codes="200", interval=Duration.seconds(15)
            ),
            deregistration_delay=Duration.seconds(30),
        )
        # /metrics is for the collector inside the task, never for the internet.
        listener.add_action(
            "HideMetrics",
            priority=1,
            conditions=[elbv2.ListenerCondition.path_patterns(["/metrics"])],
            action=elbv2.ListenerAction.fixed_response(
                404,
                content_type="application/problem+json",
                message_body='{"title":"Not Found","status":404,"code":"not_found"}',
            ),
        )
        alarms.gateway_error_rate(self, alb, targets, self.data.messaging.alarm_topic)
        host = config.domain_name or alb.load_balancer_dns_name
        CfnOutput(self, "GatewayUrl", value=f"{scheme}://{host}")
        CfnOutput(self, "LoadBalancerDns", value=alb.load_balancer_dns_name)
        return alb
