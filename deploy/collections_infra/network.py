"""The VPC: public subnets for the load balancer, isolated subnets for PostgreSQL.

Tasks need outbound internet (ECR, CloudWatch, Cognito, the LLM APIs). A NAT gateway costs about
$33 a month before traffic, more than the rest of a dev stack, so dev runs tasks in the public
subnets with a public IP and security groups that admit nothing from outside; prod puts them in
private subnets behind NAT. S3 and DynamoDB are reached through free gateway endpoints either way.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from collections_infra.config import StageConfig


class Network(Construct):
    """The VPC and where each tier's resources go."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        subnets = [
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(
                name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            ),
        ]
        if not config.tasks_in_public_subnets:
            subnets.insert(
                1,
                ec2.SubnetConfiguration(
                    name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=subnets,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        self.app_subnets = ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PUBLIC
            if config.tasks_in_public_subnets
            else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        self.data_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.assign_public_ip = config.tasks_in_public_subnets
