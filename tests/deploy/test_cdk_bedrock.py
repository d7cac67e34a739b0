"""Amazon Bedrock: off, no role may call it; on, analyzer, search and chat call the one model."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from collections_infra.bedrock import invoke_statements
from collections_infra.catalog import SERVICES

PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE_MODEL = PROFILE.removeprefix("us.")
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
ARN = "arn:${AWS::Partition}:bedrock"
PROFILE_ARN = f"{ARN}:${{AWS::Region}}:${{AWS::AccountId}}:inference-profile/{PROFILE}"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def profile_on(synthesize: Callable[..., Any]) -> Any:
    """Prod with Bedrock through a US cross-region inference profile."""
    return synthesize("prod", bedrock="true", bedrockModel=PROFILE)


@pytest.fixture(scope="module")
def model_on(synthesize: Callable[..., Any]) -> Any:
    """Dev with Bedrock on one foundation model, called in another region than the stack's."""
    return synthesize("dev", bedrock="true", bedrockModel=MODEL, bedrockRegion="eu-central-1")


@pytest.fixture(params=["profile_on", "model_on"])
def bedrock_on(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


def _text(value: Any) -> Any:
    """An intrinsic rendered as text (``{"Ref": "AWS::Region"}`` → ``${AWS::Region}``)."""
    if isinstance(value, list):
        return [_text(item) for item in value]
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return f"${{{value['Ref']}}}"
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(_text(part) for part in parts)
    if isinstance(value, dict):
        return {key: _text(item) for key, item in value.items()}
    return value


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_statements(template: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(roles, statement) for every identity-policy statement: inline, attached and managed."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            for statement in properties["PolicyDocument"]["Statement"]:
                yield properties.get("Roles", []), statement
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield [resource["Type"]], statement


def _bedrock(synth: Any) -> list[tuple[Any, dict[str, Any]]]:
    return [
        (roles, statement)
        for template in synth.templates.values()
        for roles, statement in _policy_statements(template)
        if any(action.lower().startswith("bedrock:") for action in _listed(statement["Action"]))
    ]


USERS = {
    "analyzer": "bedrock:InvokeModel",
    "search": "bedrock:InvokeModel",
    "chat": "bedrock:InvokeModelWithResponseStream",
}
"""Each service with a Bedrock client and the one action its client calls."""


def _of(synth: Any, service: str) -> list[dict[str, Any]]:
    """The Bedrock statements of ``service``'s task role, rendered as text."""
    role = {"Ref": synth.task_role(service)}
    return [_text(statement) for roles, statement in _bedrock(synth) if role in roles]


def _env(synth: Any, service: str) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in synth.container(service)["Environment"]}


def test_off_by_default_no_policy_allows_bedrock(stage: Any) -> None:
    """Without ``bedrock`` no policy of either stack names a Bedrock action, and no env asks."""
    assert [] == _bedrock(stage)
    for spec in SERVICES:
        assert not {"ANALYZER_PROVIDERS", "ANALYZER_BEDROCK_MODEL"} & set(_env(stage, spec.name))


def test_on_only_the_llm_users_may_invoke_and_never_everything(bedrock_on: Any) -> None:
    """Analyzer and search get InvokeModel, chat (it streams) the streaming action alone."""
    found = _bedrock(bedrock_on)
    roles_of = {bedrock_on.task_role(name): name for name in USERS}
    assert set(USERS) == {roles_of[roles[0]["Ref"]] for roles, _ in found}
    for roles, statement in found:
        assert 1 == len(roles) and roles[0]["Ref"] in roles_of, roles
        assert [USERS[roles_of[roles[0]["Ref"]]]] == _listed(statement["Action"])
        for resource in _listed(_text(statement["Resource"])):
            assert "*" != resource
            assert resource.endswith((f"/{PROFILE}", f"/{PROFILE_MODEL}", f"/{MODEL}")), resource


def test_a_profile_is_granted_with_the_models_it_routes_to(profile_on: Any) -> None:
    """The profile in this account and region; its model in any region, through it alone."""
    assert [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": PROFILE_ARN},
        {
            "Action": "bedrock:InvokeModel",
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": PROFILE_ARN}},
            "Effect": "Allow",
            "Resource": f"{ARN}:*::foundation-model/{PROFILE_MODEL}",
        },
    ] == _of(profile_on, "analyzer")


def test_a_foundation_model_is_granted_in_its_one_region(model_on: Any) -> None:
    """No inference profile, no wildcard: the model's ARN in the configured region only."""
    assert [
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": f"{ARN}:eu-central-1::foundation-model/{MODEL}",
        }
    ] == _of(model_on, "analyzer")
    assert [
        {
            "Action": "bedrock:InvokeModelWithResponseStream",
            "Effect": "Allow",
            "Resource": f"{ARN}:eu-central-1::foundation-model/{MODEL}",
        }
    ] == _of(model_on, "chat")


def test_a_global_profile_also_names_the_region_less_model() -> None:
    """Global profiles are authorized against ``arn:...:bedrock:::foundation-model/<model>``."""
    stack = cdk.Stack()
    model = "global.anthropic.claude-sonnet-5-5"
    profile, routed = (
        _text(stack.resolve(s.to_statement_json())) for s in invoke_statements(model, "us-east-1")
    )
    assert f"{ARN}:us-east-1:${{AWS::AccountId}}:inference-profile/{model}" == profile["Resource"]
    assert [
        f"{ARN}:*::foundation-model/anthropic.claude-sonnet-5-5",
        f"{ARN}:::foundation-model/anthropic.claude-sonnet-5-5",
    ] == routed["Resource"]
    assert {"StringEquals": {"bedrock:InferenceProfileArn": profile["Resource"]}} == routed[
        "Condition"
    ]


def test_on_the_analyzer_chain_puts_bedrock_first(profile_on: Any, model_on: Any) -> None:
    """The analyzer gets ``bedrock,local``, search and chat the granted model; no other service."""
    assert {"ANALYZER_PROVIDERS": "bedrock,local", "ANALYZER_BEDROCK_MODEL": PROFILE}.items() <= (
        _env(profile_on, "analyzer").items()
    )
    assert "ANALYZER_BEDROCK_REGION" not in _env(profile_on, "analyzer")
    assert "eu-central-1" == _env(model_on, "analyzer")["ANALYZER_BEDROCK_REGION"]
    for service, prefix in (("search", "SEARCH_"), ("chat", "CHAT_")):
        assert PROFILE == _env(profile_on, service)[f"{prefix}BEDROCK_MODEL"]
        assert "eu-central-1" == _env(model_on, service)[f"{prefix}BEDROCK_REGION"]
    for spec in SERVICES:
        if spec.name not in USERS:
            assert not any("BEDROCK" in name for name in _env(profile_on, spec.name)), spec.name


def test_cfn_lint_passes_with_bedrock_on(
    profile_on: Any, model_on: Any, cfn_lint: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The policies with Bedrock statements are valid CloudFormation too."""
    templates = [
        *profile_on.outdir.glob("*.template.json"),
        *model_on.outdir.glob("*.template.json"),
    ]
    result = cfn_lint(templates)
    assert 0 == result.returncode, result.stdout + result.stderr
