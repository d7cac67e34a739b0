"""PostgreSQL 17 on RDS with pgvector, its two roles' passwords in Secrets Manager.

RDS rather than Aurora Serverless v2: at this scale one db.t4g.micro (about $12 a month) holds
the whole collection, while Aurora's minimum of 0.5 ACU costs about $44 a month before storage
and I/O, and scale-to-zero would never engage because every service pings the database for
``/health``. RDS for PostgreSQL 17 ships pgvector 0.8 (HNSW, iterative scans) and pg_trgm.

Two roles, as everywhere else: the owner (RDS master user) runs migrations; the services log in
as ``collections_app``, which row-level security applies to. Each password is a generated secret;
ECS injects it as ``PGPASSWORD`` (asyncpg reads it), so no DSN with a password is ever stored.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from collections_infra.config import StageConfig

DATABASE = "collections"
OWNER = "collections_owner"
APP_ROLE = "collections_app"
PORT = 5432
# A full version (a bare "17" can no longer create instances); minor upgrades then apply
# automatically in the maintenance window.
ENGINE_VERSION = rds.PostgresEngineVersion.of("17.11", "17")


class Database(Construct):
    """The instance, its security group and the owner and application secrets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
    ) -> None:
        super().__init__(scope, construct_id)
        engine = rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="PostgreSQL", allow_all_outbound=False
        )
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            parameters={
                "rds.force_ssl": "1",
                "log_min_duration_statement": "1000",
            },
        )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_type=ec2.InstanceType(config.db_instance_type),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            publicly_accessible=False,
            port=PORT,
            database_name=DATABASE,
            credentials=rds.Credentials.from_generated_secret(
                OWNER, secret_name=f"{config.prefix}/database/owner"
            ),
            parameter_group=parameters,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=config.db_allocated_storage_gib,
            max_allocated_storage=config.db_allocated_storage_gib * 5,
            multi_az=config.db_multi_az,
            backup_retention=Duration.days(config.backup_days),
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
            # Extended support is billed per vCPU-hour once a major version leaves standard support.
            engine_lifecycle_support=rds.EngineLifecycleSupport.OPEN_SOURCE_RDS_EXTENDED_SUPPORT_DISABLED,
            cloudwatch_logs_exports=["postgresql"],
            cloudwatch_logs_retention=config.log_retention,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.SNAPSHOT if config.retain_data else RemovalPolicy.DESTROY,
        )
        owner_secret = self.instance.secret
        assert owner_secret is not None  # generated above
        self.owner_secret = owner_secret
        self.app_secret = secretsmanager.Secret(
            self,
            "AppSecret",
            secret_name=f"{config.prefix}/database/app",
            description=f"Password of the {APP_ROLE} role (set by the migration task)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=f'{{"username": "{APP_ROLE}"}}',
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=40,
            ),
        )

    def url(self, role: str) -> str:
        """A DSN without password (that comes from ``PGPASSWORD``); TLS required."""
        endpoint = self.instance.db_instance_endpoint_address
        return f"postgresql://{role}@{endpoint}:{PORT}/{DATABASE}?sslmode=require"

    def allow_from(self, scope: Construct, peer: ec2.ISecurityGroup, description: str) -> None:
        """Admit ``peer`` on the PostgreSQL port; the rule lives in ``scope``'s stack.

        Declaring it beside the client (the services stack) keeps the references one-way:
        services depend on data, never the reverse.
        """
        ec2.CfnSecurityGroupIngress(
            scope,
            "DatabaseIngress",
            group_id=self.security_group.security_group_id,
            source_security_group_id=peer.security_group_id,
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description=f"PostgreSQL from {description}",
        )
