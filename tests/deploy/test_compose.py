"""compose.yaml is a valid Compose file that starts the system in a safe order."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "gateway": 8000,
    "ingest": 8001,
    "analyzer": 8002,
    "embedder": 8003,
    "search": 8004,
    "chat": 8005,
}
INFRA = ("postgres", "localstack", "cognito")
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def _errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    """The file validates against the Compose Specification's JSON schema."""
    assert [] == _errors(compose)


def test_schema_check_catches_a_misspelt_key(compose: dict[str, Any]) -> None:
    """The same check rejects an unknown service key, so passing it means something."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["helthcheck"] = broken["services"]["gateway"].pop("healthcheck")
    assert ["$.services.gateway"] == [e.split(":")[0] for e in _errors(broken)]


def test_every_long_running_container_has_a_healthcheck(compose: dict[str, Any]) -> None:
    """Infrastructure and the six services all report health; only provisioning exits."""
    services = compose["services"]
    assert set(SERVICES) | set(INFRA) | {"provision"} == set(services)
    for name in [*SERVICES, *INFRA]:
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert ["CMD", "python", "/app/healthcheck.py"] == services["gateway"]["healthcheck"]["test"]


def test_services_start_only_after_provisioning_and_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    """Each service waits for provision to finish and for PostgreSQL, LocalStack and moto."""
    services = compose["services"]
    for name in SERVICES:
        depends = services[name]["depends_on"]
        assert "service_completed_successfully" == depends["provision"]["condition"], name
        for infra in INFRA:
            assert "service_healthy" == depends[infra]["condition"], (name, infra)
    for infra in INFRA:
        assert "service_healthy" == services["provision"]["depends_on"][infra]["condition"]
    gateway = services["gateway"]["depends_on"]
    assert ("service_healthy", "service_healthy") == (
        gateway["search"]["condition"],
        gateway["chat"]["condition"],
    )


def test_each_service_builds_its_own_dockerfile_from_the_root(compose: dict[str, Any]) -> None:
    """Builds use the repository root as context and a Dockerfile that exists."""
    for name in SERVICES:
        build = compose["services"][name]["build"]
        assert (".", f"services/{name}/Dockerfile") == (build["context"], build["dockerfile"])
        assert (ROOT / build["dockerfile"]).is_file()
        assert ["python", "-m", f"collections_{name}"] == compose["services"][name]["command"]


def test_provisioning_runs_from_the_dev_tooling_image(compose: dict[str, Any]) -> None:
    """The one-shot provision step is dev tooling: its own image, not a service's."""
    provision = compose["services"]["provision"]
    assert (".", "devtools/Dockerfile") == (
        provision["build"]["context"],
        provision["build"]["dockerfile"],
    )
    assert (ROOT / "devtools" / "Dockerfile").is_file()
    assert "python -m collections_devtools.provision" in " ".join(provision["command"])


def test_only_the_gateway_is_published_and_only_on_loopback(compose: dict[str, Any]) -> None:
    """Port 8000 (and LocalStack's 4566 for presigned URLs) on 127.0.0.1; nothing else."""
    published = {
        name: svc.get("ports", []) for name, svc in compose["services"].items() if svc.get("ports")
    }
    assert {"gateway", "localstack"} == set(published)
    assert ["127.0.0.1:${COLLECTIONS_HTTP_PORT:-8000}:8000"] == published["gateway"]
    assert all(port.startswith("127.0.0.1:") for ports in published.values() for port in ports)


def test_services_use_the_app_role_and_emulators(compose: dict[str, Any]) -> None:
    """Services connect as collections_app (RLS applies), to LocalStack, and Cognito on moto."""
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://collections_app:")
        assert "http://localhost.localstack.cloud:4566" == env["AWS_ENDPOINT_URL"]
        assert "http://cognito:5000" == env["AWS_ENDPOINT_URL_COGNITO_IDP"]
    provision = compose["services"]["provision"]["environment"]
    assert provision["MIGRATE_DATABASE_URL"].startswith("postgresql://postgres:")
    assert "/var/lib/collections/stack.json" == provision["PROVISION_OUTPUT"]


def test_localstack_runs_the_four_services_pinned_to_a_free_release(
    compose: dict[str, Any],
) -> None:
    """S3, SQS, EventBridge and DynamoDB, from an image that starts without an account."""
    localstack = compose["services"]["localstack"]
    assert {"s3", "sqs", "events", "dynamodb"} == set(
        localstack["environment"]["SERVICES"].split(",")
    )
    assert localstack["image"].endswith(":4.14.0}")


def _docker_compose() -> list[str] | None:
    """``docker compose`` (plugin) or a v2+ ``docker-compose`` binary, if one runs here."""
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if not shutil.which(command[0]):
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0 and " v1." not in probe.stdout:
            return command
    return None


@pytest.mark.skipif(
    _docker_compose() is None,
    reason="no Docker Compose v2 CLI here (docker compose plugin or docker-compose); "
    "the JSON-schema test above validates the file instead",
)
def test_docker_compose_config_accepts_the_file() -> None:
    """``docker compose config`` (no engine needed) resolves and validates the file."""
    command = _docker_compose()
    assert command is not None
    result = subprocess.run(
        [*command, "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert 0 == result.returncode, result.stderr
