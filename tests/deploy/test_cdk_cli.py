"""The synthesized templates pass cfn-lint, and the aws-cdk CLI synthesizes the app offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
Lint = Callable[[list[Path]], subprocess.CompletedProcess[str]]


def test_cfn_lint_passes_on_every_template(dev: Any, prod: Any, cfn_lint: Lint) -> None:
    """cfn-lint (with only the CDK's redundant-DependsOn warning ignored) finds nothing."""
    templates = sorted([*dev.outdir.glob("*.template.json"), *prod.outdir.glob("*.template.json")])
    assert 4 == len(templates)
    result = cfn_lint(templates)
    assert 0 == result.returncode, result.stdout + result.stderr


def test_cfn_lint_is_not_a_rubber_stamp(tmp_path: Path, cfn_lint: Lint) -> None:
    """A template with a misspelt property fails the same lint, so a pass means something."""
    broken = tmp_path / "broken.template.json"
    broken.write_text(
        json.dumps(
            {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueNam": "x"}}}}
        )
    )
    assert 0 != cfn_lint([broken]).returncode


def _cli_available() -> str | None:
    if not (shutil.which("node") and shutil.which("npm")):
        return "node and npm are not installed"
    return None


@pytest.mark.skipif(_cli_available() is not None, reason=str(_cli_available()))
def test_cdk_cli_synthesizes_the_same_app_offline(dev: Any, tmp_path: Path) -> None:
    """``cdk synth`` (the npm CLI, pinned) produces the stacks the in-process synth does."""
    cdk = DEPLOY / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=DEPLOY,
            check=True,
            timeout=300,
        )
    env = {
        **os.environ,
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # No credentials: prove the synth needs none.
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    result = subprocess.run(
        [
            str(cdk),
            "synth",
            "--ci",
            "--quiet",
            "--no-notices",
            "--app",
            f"{sys.executable} app.py",
            "--output",
            str(tmp_path),
            "-c",
            "stage=dev",
        ],
        cwd=DEPLOY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert 0 == result.returncode, result.stderr[-4000:]
    for stack, template in dev.templates.items():
        name = dev.built.data.stack_name if stack == "data" else dev.built.services.stack_name
        cli = json.loads((tmp_path / f"{name}.template.json").read_text())
        # The CLI adds its version-reporting resource; everything else must match.
        assert _types(template) == _types(cli) - {("CDKMetadata", "AWS::CDK::Metadata")}


def _types(template: dict[str, Any]) -> set[tuple[str, str]]:
    return {(key, value["Type"]) for key, value in template["Resources"].items()}
