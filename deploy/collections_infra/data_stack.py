"""The stateful half: network, bucket, queues, bus, database, chat table, user pool, secrets.

Kept apart from the services so the services stack can be torn down and rebuilt freely while
data stays; in prod everything here is retained (or snapshotted) when the stack is deleted.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, SecretValue, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from collections_infra.catalog import ANTHROPIC, VOYAGE
from collections_infra.config import StageConfig
from collections_infra.database import Database
from collections_infra.identity import Identity
from collections_infra.messaging import Messaging
from collections_infra.network import Network
from collections_infra.storage import ChatTable, ImageBucket


class DataStack(Stack):
    """Everything the services use; the services stack reads these attributes."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.network = Network(self, "Network", config=config)
        self.messaging = Messaging(self, "Messaging", config=config)
        self.images = ImageBucket(
            self, "Images", config=config, ingest_queue=self.messaging.queues["ingest"]
        )
        self.chat = ChatTable(self, "Chat", config=config)
        self.database = Database(
            self,
            "Database",
            config=config,
            vpc=self.network.vpc,
            subnets=self.network.data_subnets,
        )
        self.identity = Identity(self, "Identity", config=config)
        self.provider_keys = self._provider_keys(config)
        for name, value in {
            "Bucket": self.images.bucket.bucket_name,
            "EventBus": self.messaging.bus.event_bus_name,
            "ChatTable": self.chat.table.table_name,
            "UserPoolId": self.identity.user_pool.user_pool_id,
            "UserPoolClientId": self.identity.client.user_pool_client_id,
            "ProviderKeysSecret": self.provider_keys.secret_name,
        }.items():
            CfnOutput(self, name, value=value)

    def _provider_keys(self, config: StageConfig) -> secretsmanager.ISecret:
        """The LLM and embedding API keys, as one JSON secret the operator fills in.

        Created with empty values (the services then use their local providers); set real keys
        with ``aws secretsmanager put-secret-value`` and restart the services. CloudFormation
        only writes the value when this placeholder changes, so a deploy keeps the real keys.
        """
        if config.provider_keys_secret:
            return secretsmanager.Secret.from_secret_name_v2(
                self, "ProviderKeys", config.provider_keys_secret
            )
        return secretsmanager.Secret(
            self,
            "ProviderKeys",
            secret_name=f"{config.prefix}/providers",
            description="ANTHROPIC_API_KEY and VOYAGE_API_KEY; empty means the local providers",
            secret_object_value={
                ANTHROPIC: SecretValue.unsafe_plain_text(""),
                VOYAGE: SecretValue.unsafe_plain_text(""),
            },
        )
