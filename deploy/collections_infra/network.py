"""The VPC: the load balancer and NAT in public subnets, tasks in private ones, PostgreSQL isolated.

Tasks need outbound internet (ECR, CloudWatch, Cognito, the LLM APIs) but nothing may reach them
from outside. Prod uses managed NAT gateways. A NAT gateway costs about $33 a month before
traffic, more than a dev stack's database, so dev routes through a t4g.nano NAT instance
(about $4 a month with its disk); giving each task a public IP instead would cost $3.65 a month
per task in IPv4 charges and expose them. S3 and DynamoDB traffic skips NAT through free gateway
endpoints either way.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from collections_infra.config import StageConfig


def _nat_provider(config: StageConfig) -> ec2.NatProvider:
    if config.nat_instance:
        return ec2.NatProvider.instance_v2(
            instance_type=ec2.InstanceType("t4g.nano"),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64
            ),
            default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
        )
    return ec2.NatProvider.gateway()


class Network(Construct):
    """The VPC and where each tier's resources go."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,
            nat_gateway_provider=_nat_provider(config),
            nat_gateways=1 if config.nat_instance else config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        self.app_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.data_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
