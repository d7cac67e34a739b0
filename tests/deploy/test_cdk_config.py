"""Stage settings come from CDK context, with per-stage defaults and strict parsing."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_logs as logs
from collections_infra.config import ConfigError, load_config


class Context:
    """The part of a construct node that load_config reads."""

    def __init__(self, **values: Any) -> None:
        self.values = values

    def try_get_context(self, key: str) -> Any:
        return self.values.get(key)


def test_dev_is_the_default_stage() -> None:
    """Without context the app describes dev: NAT instance, small spot tasks, data not kept."""
    config = load_config(Context())
    assert ("dev", True, True, True, False) == (
        config.stage,
        config.nat_instance,
        config.fargate_spot,
        config.compact_tasks,
        config.retain_data,
    )


def test_prod_defaults_differ_where_it_matters() -> None:
    """Prod: a NAT gateway, Multi-AZ, full-size on-demand tasks, data retained."""
    config = load_config(Context(stage="prod", certificateArn="arn:aws:acm:x"))
    assert (False, 1, True, False, False, True) == (
        config.nat_instance,
        config.nat_gateways,
        config.db_multi_az,
        config.fargate_spot,
        config.compact_tasks,
        config.retain_data,
    )


def test_prod_without_a_certificate_is_refused() -> None:
    """Prod serves HTTPS only, so a missing certificateArn stops the synth."""
    with pytest.raises(ConfigError, match="certificateArn"):
        load_config(Context(stage="prod"))


def test_unknown_stage_is_refused() -> None:
    """A typo in the stage name is an error, not a silent dev deploy."""
    with pytest.raises(ConfigError, match="staging"):
        load_config(Context(stage="staging"))


@pytest.mark.parametrize(
    ("key", "raw", "field", "expected"),
    [
        ("workerMaxTasks", "10", "worker_max_tasks", 10),
        ("fargateSpot", "false", "fargate_spot", False),
        ("natGateways", 2, "nat_gateways", 2),
        (
            "corsOrigins",
            "https://a.example, https://b.example",
            "cors_origins",
            ("https://a.example", "https://b.example"),
        ),
        ("corsOrigins", ["https://a.example"], "cors_origins", ("https://a.example",)),
    ],
)
def test_context_values_are_parsed(key: str, raw: Any, field: str, expected: Any) -> None:
    """Strings from ``-c key=value`` and JSON from cdk.json both become typed values."""
    assert expected == getattr(load_config(Context(**{key: raw})), field)


def test_service_env_is_read_from_json() -> None:
    """Extra settings per service arrive as JSON on the command line."""
    config = load_config(Context(serviceEnv='{"search": {"SEARCH_RRF_K": 30}}'))
    assert {"search": {"SEARCH_RRF_K": "30"}} == config.service_env


def test_service_env_for_an_unknown_service_is_refused() -> None:
    """A misspelt service name would silently configure nothing, so it is an error."""
    with pytest.raises(ConfigError, match="serch"):
        load_config(Context(serviceEnv={"serch": {"X": "1"}}))


def test_unparseable_context_names_the_key() -> None:
    """A value that is not a number fails with the context key in the message."""
    with pytest.raises(ConfigError, match="workerMaxTasks"):
        load_config(Context(workerMaxTasks="many"))


def test_origins_default_to_the_public_hostname() -> None:
    """With a domain and no explicit origins the site's HTTPS origin is allowed."""
    config = load_config(Context(domainName="photos.example.com"))
    assert ("https://photos.example.com",) == config.origins


def test_log_retention_rounds_up_to_a_cloudwatch_value() -> None:
    """Ten days is not a CloudWatch retention; the next longer one (two weeks) is used."""
    config = load_config(Context(logRetentionDays="10"))
    assert logs.RetentionDays.TWO_WEEKS == config.log_retention


def test_bedrock_is_off_by_default_with_the_analyzers_model() -> None:
    """Bedrock needs turning on; its model defaults to the analyzer's own default."""
    config = load_config(Context())
    assert (False, "global.anthropic.claude-sonnet-5-5", "") == (
        config.bedrock,
        config.bedrock_model,
        config.bedrock_region,
    )
    assert load_config(Context(stage="prod", certificateArn="arn:aws:acm:x")).bedrock is False
    assert load_config(Context(bedrock="true")).bedrock is True


@pytest.mark.parametrize(
    "model", ["anthropic.*", "us.anthropic.claude/x", "claude", "arn:aws:bedrock:x", "a .b"]
)
def test_a_bedrock_model_that_would_widen_the_grant_is_refused(model: str) -> None:
    """The model id goes into IAM ARNs: wildcards, slashes and non-ids stop the synth."""
    with pytest.raises(ConfigError, match="bedrockModel"):
        load_config(Context(bedrock="true", bedrockModel=model))


def test_a_bedrock_region_must_be_a_region() -> None:
    """``bedrockRegion`` is part of the granted ARN too."""
    with pytest.raises(ConfigError, match="bedrockRegion"):
        load_config(Context(bedrock="true", bedrockRegion="*"))
    assert "eu-central-1" == load_config(Context(bedrockRegion="eu-central-1")).bedrock_region


def test_bedrock_model_through_service_env_is_refused() -> None:
    """A model set in serviceEnv would not be the one the analyzer's role may invoke."""
    with pytest.raises(ConfigError, match="ANALYZER_BEDROCK_MODEL"):
        load_config(
            Context(bedrock="true", serviceEnv={"analyzer": {"ANALYZER_BEDROCK_MODEL": "x"}})
        )


def test_a_bedrock_model_for_search_or_chat_through_service_env_is_refused() -> None:
    """Search and chat, too, may only call the model their roles are granted."""
    for service, variable in (("search", "SEARCH_BEDROCK_MODEL"), ("chat", "BEDROCK_REGION")):
        with pytest.raises(ConfigError, match=variable):
            load_config(Context(serviceEnv={service: {variable: "x"}}))


def test_the_tavily_key_comes_only_from_a_named_secret() -> None:
    """``tavilySecret`` must be a secret name; a key in serviceEnv would sit in the template."""
    assert "" == load_config(Context()).tavily_secret
    assert "prod/tavily" == load_config(Context(tavilySecret="prod/tavily")).tavily_secret
    with pytest.raises(ConfigError, match="tavilySecret"):
        load_config(Context(tavilySecret="bad name*"))
    with pytest.raises(ConfigError, match="TAVILY_API_KEY"):
        load_config(Context(serviceEnv={"chat": {"TAVILY_API_KEY": "tvly-x"}}))
