"""Build the stacks of one stage into a CDK app (used by ``app.py`` and by the tests)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from collections_infra.config import StageConfig, load_config
from collections_infra.data_stack import DataStack
from collections_infra.services_stack import ServicesStack


@dataclass(frozen=True)
class Stage:
    config: StageConfig
    data: DataStack
    services: ServicesStack


def build_stage(app: cdk.App) -> Stage:
    """Add ``Collections-<stage>-Data`` and ``Collections-<stage>-Services`` to ``app``.

    The stacks are environment-agnostic (no account or region, no lookups), so ``cdk synth``
    needs no AWS credentials; ``cdk deploy`` takes both from the caller's profile.
    """
    config = load_config(app.node)
    name = f"Collections-{config.stage}"
    data = DataStack(
        app,
        f"{name}-Data",
        config=config,
        description=f"Collections {config.stage}: network, storage, queues, database, users",
        termination_protection=config.retain_data,
    )
    services = ServicesStack(
        app,
        f"{name}-Services",
        config=config,
        data=data,
        description=f"Collections {config.stage}: ECS services, load balancer, migrations",
    )
    services.add_stack_dependency(data)
    for stack in (data, services):
        cdk.Tags.of(stack).add("project", "collections")
        cdk.Tags.of(stack).add("stage", config.stage)
    return Stage(config=config, data=data, services=services)
