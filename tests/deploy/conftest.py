"""Fixtures of the deploy tests: paths, and the CDK app synthesized once per session per stage.

Synthesis runs in-process with aws-cdk-lib (a few seconds per stage); the templates are then
read as plain JSON, so each assertion is a dictionary walk, not another trip through jsii.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = ("gateway", "ingest", "analyzer", "embedder", "search", "chat")
PROD_CONTEXT = {
    "stage": "prod",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0000-test",
    "domainName": "photos.example.com",
    "serviceEnv": '{"gateway": {"GATEWAY_RATE_LIMIT_PER_MINUTE": "200"}}',
}

# The CDK app is not an installed package: it runs from deploy/ (cdk.json: python3 app.py).
sys.path.append(str(DEPLOY))
# jsii's banner about the machine's Node.js release says nothing about our code.
os.environ.setdefault(
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", ",".join(str(v) for v in range(14, 40))
)
# Any deprecated CDK API we call fails the synth instead of printing a warning.
os.environ.setdefault("JSII_DEPRECATED", "fail")


@dataclass(frozen=True)
class Synthesized:
    """One stage's two templates and the construct objects they came from."""

    built: Any
    templates: dict[str, dict[str, Any]]
    outdir: Path

    def template(self, stack: str) -> dict[str, Any]:
        return self.templates[stack]

    def resources(self, stack: str, kind: str) -> dict[str, dict[str, Any]]:
        """Logical id → resource, for every resource of CloudFormation type ``kind``."""
        resources = self.templates[stack]["Resources"]
        return {key: value for key, value in resources.items() if value["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        """The logical id CloudFormation knows ``construct`` (an L2's default child) by."""
        from aws_cdk import Stack

        child = construct.node.default_child or construct
        return str(Stack.of(child).get_logical_id(child))

    def task_role(self, service: str) -> str:
        """The logical id of ``service``'s task role."""
        return self.logical_id(self.built.services.apps[service].task_definition.task_role)

    def container(self, service: str) -> dict[str, Any]:
        """``service``'s one container definition, as synthesized."""
        task = self.logical_id(self.built.services.apps[service].task_definition)
        (container,) = self.template("services")["Resources"][task]["Properties"][
            "ContainerDefinitions"
        ]
        return dict(container)


def cdk_context(**overrides: str) -> dict[str, Any]:
    """The feature flags of deploy/cdk.json, so the tests see what ``cdk synth`` sees."""
    context: dict[str, Any] = json.loads((DEPLOY / "cdk.json").read_text())["context"]
    return {**context, **overrides}


def _synthesize(outdir: Path, context: dict[str, Any]) -> Synthesized:
    import aws_cdk as cdk
    from collections_infra.stages import build_stage

    app = cdk.App(outdir=str(outdir), context=context)
    stage = build_stage(app)
    assembly = app.synth()
    templates = {
        "data": assembly.get_stack_by_name(stage.data.stack_name).template,
        "services": assembly.get_stack_by_name(stage.services.stack_name).template,
    }
    return Synthesized(built=stage, templates=templates, outdir=outdir)


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield _synthesize(tmp_path_factory.mktemp("cdk-dev"), cdk_context())


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield _synthesize(tmp_path_factory.mktemp("cdk-prod"), cdk_context(**PROD_CONTEXT))


@pytest.fixture(params=["dev", "prod"])
def stage(request: pytest.FixtureRequest) -> Synthesized:
    """Each stage in turn, for properties both must have."""
    synthesized: Synthesized = request.getfixturevalue(request.param)
    return synthesized


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesized]:
    """Synthesize a stage with extra context (``bedrock="true"``...), once per distinct context."""
    cache: dict[tuple[tuple[str, str], ...], Synthesized] = {}

    def build(stage: str = "dev", **overrides: str) -> Synthesized:
        context = {**(PROD_CONTEXT if stage == "prod" else {"stage": stage}), **overrides}
        key = tuple(sorted(context.items()))
        if key not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk-{stage}")
            cache[key] = _synthesize(outdir, cdk_context(**context))
        return cache[key]

    return build


@pytest.fixture(scope="session")
def cfn_lint() -> Callable[[list[Path]], subprocess.CompletedProcess[str]]:
    """Run cfn-lint, with the project's configuration, on some templates."""

    def lint(templates: list[Path]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(Path(sys.executable).parent / "cfn-lint"),
                "--config-file",
                str(DEPLOY / ".cfnlintrc.yaml"),
                "--",
                *map(str, sorted(templates)),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return lint
