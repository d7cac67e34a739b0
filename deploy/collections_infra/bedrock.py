"""Amazon Bedrock for the analyzer: its provider-chain environment and a least-privilege grant.

Off by default (context ``bedrock``); off means no Bedrock permission anywhere. On, the analyzer's
provider chain becomes ``bedrock,local`` with ``bedrockModel``, and its task role may call
``bedrock:InvokeModel`` on that one model and nothing else:

- No ``bedrock:InvokeModelWithResponseStream``: the analyzer's Bedrock provider sends one
  Messages request per image and reads the whole answer (``/model/{id}/invoke``).
- Chat gets nothing: its agent talks to the Anthropic API only; it has no Bedrock provider.
- A foundation-model id (``anthropic.claude-...``) is granted in the one region it is called in.
- A cross-region inference-profile id (``us.``, ``eu.``, ``global.``, ...) is granted as the
  profile in this account and region, plus the foundation model it routes to, but only through
  that profile (``bedrock:InferenceProfileArn``), so the role cannot call the model directly.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from collections_infra.config import StageConfig

USERS = ("analyzer",)
"""The services with a Bedrock provider."""
INVOKE = ["bedrock:InvokeModel"]
# Geographies of the system-defined cross-region inference profiles: the id's first segment.
PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})
GLOBAL = "global"


def environment(service: str, config: StageConfig) -> dict[str, str]:
    """The provider-chain settings that put Bedrock first (read by the analyzer's chain)."""
    if not config.bedrock or service not in USERS:
        return {}
    # local stays as the fallback, as it does after anthropic when only an API key is set.
    env = {"ANALYZER_PROVIDERS": "bedrock,local", "ANALYZER_BEDROCK_MODEL": config.bedrock_model}
    if config.bedrock_region:
        env["ANALYZER_BEDROCK_REGION"] = config.bedrock_region
    return env


def grant_invoke(service: str, role: iam.IRole, config: StageConfig) -> None:
    """Let ``role`` invoke the configured model, if Bedrock is on and ``service`` uses it."""
    if not config.bedrock or service not in USERS:
        return
    # Unset, the analyzer calls Bedrock in AWS_REGION, which the stack sets to its own region.
    region = config.bedrock_region or Aws.REGION
    for statement in invoke_statements(config.bedrock_model, region):
        role.add_to_principal_policy(statement)


def invoke_statements(model: str, region: str) -> list[iam.PolicyStatement]:
    """The statements that allow ``InvokeModel`` on ``model`` called in ``region``, and no more."""
    geography, _, foundation_model = model.partition(".")
    if geography not in PROFILE_PREFIXES:
        return [iam.PolicyStatement(actions=INVOKE, resources=[_model_arn(region, model)])]
    profile = f"arn:{Aws.PARTITION}:bedrock:{region}:{Aws.ACCOUNT_ID}:inference-profile/{model}"
    # The profile routes each request to one of its destination regions, chosen by Bedrock
    # per request and extended by AWS without notice, and IAM checks the foundation model in
    # the region that serves it: so the region is "*" here, and only here. The condition keeps
    # that wildcard usable through this profile alone.
    routed = [_model_arn("*", foundation_model)]
    if geography == GLOBAL:
        # Global profiles are authorized against the region-less foundation-model ARN too.
        routed.append(_model_arn("", foundation_model))
    return [
        iam.PolicyStatement(actions=INVOKE, resources=[profile]),
        iam.PolicyStatement(
            actions=INVOKE,
            resources=routed,
            conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        ),
    ]


def _model_arn(region: str, model: str) -> str:
    return f"arn:{Aws.PARTITION}:bedrock:{region}::foundation-model/{model}"
