"""Amazon Bedrock for the analyzer, search and chat: their environment and least-privilege grants.

Off by default (context ``bedrock``); off means no Bedrock permission anywhere. On, each of the
three is pointed at ``bedrockModel`` and its task role may call that one model and nothing else,
with only the action its client uses:

- The analyzer's provider chain becomes ``bedrock,local``; it sends one Messages request per
  image and reads the whole answer (``/model/{id}/invoke``): ``bedrock:InvokeModel``.
- Search (agentic planning, grounded answers) gets ``SEARCH_BEDROCK_MODEL`` and also reads whole
  answers: ``bedrock:InvokeModel``.
- Chat gets ``CHAT_BEDROCK_MODEL`` and streams every reply (``/invoke-with-response-stream``):
  ``bedrock:InvokeModelWithResponseStream`` only.
- Search and chat use Bedrock only while their ``ANTHROPIC_API_KEY`` (the provider secret) is
  empty: a key set there wins (:mod:`collections_shared.llm`).
- A foundation-model id (``anthropic.claude-...``) is granted in the one region it is called in.
- A cross-region inference-profile id (``us.``, ``eu.``, ``global.``, ...) is granted as the
  profile in this account and region, plus the foundation model it routes to, but only through
  that profile (``bedrock:InferenceProfileArn``), so the role cannot call the model directly.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from collections_infra.config import StageConfig

INVOKE = "bedrock:InvokeModel"
STREAM = "bedrock:InvokeModelWithResponseStream"
USERS: dict[str, tuple[str, str]] = {
    "analyzer": ("ANALYZER_", INVOKE),
    "search": ("SEARCH_", INVOKE),
    "chat": ("CHAT_", STREAM),
}
"""The services with a Bedrock client: the prefix of their settings and the one action it calls."""
# Geographies of the system-defined cross-region inference profiles: the id's first segment.
PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})
GLOBAL = "global"


def environment(service: str, config: StageConfig) -> dict[str, str]:
    """The settings that point ``service`` at the granted model (and the analyzer's chain at it)."""
    if not config.bedrock or service not in USERS:
        return {}
    prefix, _ = USERS[service]
    env = {f"{prefix}BEDROCK_MODEL": config.bedrock_model}
    if service == "analyzer":
        # local stays as the fallback, as it does after anthropic when only an API key is set.
        env["ANALYZER_PROVIDERS"] = "bedrock,local"
    if config.bedrock_region:
        env[f"{prefix}BEDROCK_REGION"] = config.bedrock_region
    return env


def grant_invoke(service: str, role: iam.IRole, config: StageConfig) -> None:
    """Let ``role`` invoke the configured model, if Bedrock is on and ``service`` uses it."""
    if not config.bedrock or service not in USERS:
        return
    # Unset, each service calls Bedrock in AWS_REGION, which the stack sets to its own region.
    region = config.bedrock_region or Aws.REGION
    _, action = USERS[service]
    for statement in invoke_statements(config.bedrock_model, region, action):
        role.add_to_principal_policy(statement)


def invoke_statements(model: str, region: str, action: str = INVOKE) -> list[iam.PolicyStatement]:
    """The statements that allow ``action`` on ``model`` called in ``region``, and no more."""
    actions = [action]
    geography, _, foundation_model = model.partition(".")
    if geography not in PROFILE_PREFIXES:
        return [iam.PolicyStatement(actions=actions, resources=[_model_arn(region, model)])]
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
        iam.PolicyStatement(actions=actions, resources=[profile]),
        iam.PolicyStatement(
            actions=actions,
            resources=routed,
            conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        ),
    ]


def _model_arn(region: str, model: str) -> str:
    return f"arn:{Aws.PARTITION}:bedrock:{region}::foundation-model/{model}"
