"""Per-stage settings of the CDK app, read from CDK context (``cdk.json`` or ``-c key=value``).

Everything that differs between dev and prod lives here, so the constructs read as one shape
with a handful of knobs. Context values given on the command line arrive as strings; they are
parsed here once, and a bad value stops the synth with a message naming the key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

from aws_cdk import aws_logs as logs

STAGES = ("dev", "prod")
SERVICE_NAMES = ("gateway", "ingest", "analyzer", "embedder", "search", "chat")


class ContextReader(Protocol):
    def try_get_context(self, key: str) -> Any: ...


class ConfigError(ValueError):
    """The CDK context does not describe a valid stage."""


@dataclass(frozen=True, kw_only=True)
class StageConfig:
    """The knobs of one deployment; defaults per stage come from :data:`DEFAULTS`."""

    stage: str
    certificate_arn: str = ""
    """ACM certificate of the public hostname; required in prod (the ALB then serves HTTPS)."""
    domain_name: str = ""
    """Public hostname of the gateway (the certificate's name), e.g. ``photos.example.com``."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed by the gateway and the bucket's CORS; default ``https://<domain>``."""
    alarm_email: str = ""
    """If set, DLQ and service alarms are e-mailed here (SNS subscription to confirm)."""
    nat_instance: bool = True
    """Route the private subnets through one t4g.nano NAT instance instead of NAT gateways."""
    nat_gateways: int = 1
    """Managed NAT gateways when ``nat_instance`` is off (2 = one per AZ, no single AZ to lose)."""
    db_instance_type: str = "t4g.micro"
    db_allocated_storage_gib: int = 20
    db_multi_az: bool = False
    backup_days: int = 1
    log_retention_days: int = 7
    fargate_spot: bool = True
    """Run every task on Fargate Spot (about 70 % cheaper; tasks can be interrupted)."""
    compact_tasks: bool = True
    """Smaller task sizes (a quarter or half vCPU): enough for a handful of users."""
    http_min_tasks: int = 1
    http_max_tasks: int = 2
    worker_min_tasks: int = 1
    worker_max_tasks: int = 3
    container_insights: bool = False
    collector: bool = False
    """An ADOT collector beside each service: /metrics to CloudWatch (embedded metric format)
    and traces to X-Ray (collections_infra/collector.py). The alarms work without it."""
    retain_data: bool = False
    """Keep the bucket, database, table and user pool when the stack is deleted."""
    provider_keys_secret: str = ""
    """Name of an existing Secrets Manager secret with the provider keys; empty: create one."""
    image_tag: str = ""
    """Use prebuilt images ``<account>.dkr.ecr.<region>.amazonaws.com/collections-<service>:<tag>``
    instead of building the Dockerfiles at deploy time."""
    arm64: bool = False
    """Graviton tasks (about 20 % cheaper); the images must then be built for linux/arm64."""
    bedrock: bool = False
    """Put Amazon Bedrock first in the analyzer's provider chain, point search and chat at it too,
    and let their roles invoke ``bedrock_model`` (collections_infra/bedrock.py); off: no Bedrock
    permission at all."""
    bedrock_model: str = "global.anthropic.claude-sonnet-5-5"
    """A foundation-model id (``anthropic.claude-...``) or a cross-region inference-profile id
    (``us.``/``eu.``/``global.``...); the default is the analyzer's own."""
    bedrock_region: str = ""
    """Region the analyzer, search and chat call Bedrock in; empty: the stack's region."""
    tavily_secret: str = ""
    """Name of an existing Secrets Manager secret whose whole value is a Tavily API key: chat
    gets it as ``TAVILY_API_KEY`` (its ``web_search`` tool); empty: chat has no web search."""
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """Extra environment per service, e.g. ``{"gateway": {"GATEWAY_RATE_LIMIT_PER_MINUTE":
    "200"}}``: any setting of a service's settings.py, without a code change."""

    @property
    def prefix(self) -> str:
        """Prefix of physical names, so dev and prod can share an account."""
        return f"collections-{self.stage}"

    @property
    def origins(self) -> tuple[str, ...]:
        """Origins the browser UI is served from (empty: presigned POSTs won't pass CORS)."""
        if self.cors_origins:
            return self.cors_origins
        return (f"https://{self.domain_name}",) if self.domain_name else ()

    @property
    def log_retention(self) -> logs.RetentionDays:
        """The shortest CloudWatch retention that keeps ``log_retention_days``."""
        return next(
            (value for days, value in _RETENTIONS if days >= self.log_retention_days),
            logs.RetentionDays.ONE_YEAR,
        )


_RETENTIONS = (
    (1, logs.RetentionDays.ONE_DAY),
    (3, logs.RetentionDays.THREE_DAYS),
    (7, logs.RetentionDays.ONE_WEEK),
    (14, logs.RetentionDays.TWO_WEEKS),
    (30, logs.RetentionDays.ONE_MONTH),
    (90, logs.RetentionDays.THREE_MONTHS),
    (180, logs.RetentionDays.SIX_MONTHS),
    (365, logs.RetentionDays.ONE_YEAR),
)

DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {},
    "prod": {
        "nat_instance": False,
        "nat_gateways": 1,
        "db_instance_type": "t4g.small",
        "db_allocated_storage_gib": 50,
        "db_multi_az": True,
        "backup_days": 14,
        "log_retention_days": 30,
        "fargate_spot": False,
        "compact_tasks": False,
        "http_min_tasks": 2,
        "http_max_tasks": 6,
        "worker_min_tasks": 1,
        "worker_max_tasks": 6,
        "container_insights": True,
        "retain_data": True,
    },
}


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).lower()
    if text not in {"true", "1", "yes", "false", "0", "no", ""}:
        raise ValueError(text)
    return text in {"true", "1", "yes"}


def _origins(raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _service_env(raw: Any) -> dict[str, dict[str, str]]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return {str(name): {str(k): str(v) for k, v in env.items()} for name, env in value.items()}


# Field annotations (strings, with postponed evaluation) → how a context value becomes one.
_PARSERS: dict[str, Any] = {
    "bool": _bool,
    "int": int,
    "str": str,
    "tuple[str, ...]": _origins,
    "dict[str, dict[str, str]]": _service_env,
}


def _parse(name: str, kind: str, raw: Any) -> Any:
    """Turn a context value (JSON from cdk.json, or a string from ``-c``) into ``kind``."""
    try:
        return _PARSERS[kind](raw)
    except (AttributeError, TypeError, ValueError) as error:
        msg = f"context {name}: cannot read {raw!r} as {kind}"
        raise ConfigError(msg) from error


def load_config(context: ContextReader) -> StageConfig:
    """The stage named by context ``stage`` (default dev), with its overrides applied.

    Every field of :class:`StageConfig` can be overridden with a camelCase context key, e.g.
    ``-c certificateArn=arn:aws:acm:...`` or ``-c workerMaxTasks=10``.
    """
    stage = str(context.try_get_context("stage") or "dev")
    if stage not in STAGES:
        msg = f"context stage: {stage!r} is not one of {', '.join(STAGES)}"
        raise ConfigError(msg)
    config = StageConfig(stage=stage, **DEFAULTS[stage])
    overrides: dict[str, Any] = {}
    for spec in fields(StageConfig):
        if spec.name == "stage":
            continue
        key = _camel(spec.name)
        raw = context.try_get_context(key)
        if raw is not None:
            overrides[spec.name] = _parse(key, str(spec.type), raw)
    config = replace(config, **overrides)
    _check(config)
    _check_bedrock(config)
    return config


def _check(config: StageConfig) -> None:
    if config.stage == "prod" and not config.certificate_arn:
        msg = "context certificateArn: prod serves HTTPS only, so it needs an ACM certificate"
        raise ConfigError(msg)
    unknown = set(config.service_env) - set(SERVICE_NAMES)
    if unknown:
        msg = f"context serviceEnv: no service named {', '.join(sorted(unknown))}"
        raise ConfigError(msg)


# The model id and region become part of IAM resource ARNs: a "*", "?" or "/" would widen the
# grant, so only the characters of real ids (``us.anthropic.claude-...-v1:0``) pass.
_MODEL_ID = re.compile(r"[a-z0-9-]+\.[A-Za-z0-9][A-Za-z0-9._:-]*", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+", re.ASCII)
# Set through serviceEnv, these would call a model (or region) the IAM grant does not name.
_BEDROCK_VARIABLES = {
    service: frozenset(
        {f"{prefix}BEDROCK_MODEL", "BEDROCK_MODEL", f"{prefix}BEDROCK_REGION", "BEDROCK_REGION"}
    )
    for service, prefix in (("analyzer", "ANALYZER_"), ("search", "SEARCH_"), ("chat", "CHAT_"))
}
# A secret name: letters, digits and /_+=.@- (Secrets Manager's own rule), at most 512.
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}", re.ASCII)


def _check_bedrock(config: StageConfig) -> None:
    if not _MODEL_ID.fullmatch(config.bedrock_model):
        msg = f"context bedrockModel: {config.bedrock_model!r} is not a Bedrock model id"
        raise ConfigError(msg)
    if config.bedrock_region and not _REGION.fullmatch(config.bedrock_region):
        msg = f"context bedrockRegion: {config.bedrock_region!r} is not an AWS region"
        raise ConfigError(msg)
    for service, variables in _BEDROCK_VARIABLES.items():
        clashes = sorted(variables.intersection(config.service_env.get(service, {})))
        if clashes:
            msg = (
                f"context serviceEnv: set {', '.join(clashes)} with bedrockModel / "
                f"bedrockRegion, so that the {service}'s IAM grant names the model it calls"
            )
            raise ConfigError(msg)
    if config.tavily_secret and not _SECRET_NAME.fullmatch(config.tavily_secret):
        msg = f"context tavilySecret: {config.tavily_secret!r} is not a Secrets Manager name"
        raise ConfigError(msg)
    if "TAVILY_API_KEY" in config.service_env.get("chat", {}):
        msg = "context serviceEnv: give chat TAVILY_API_KEY with tavilySecret, never as a value"
        raise ConfigError(msg)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
