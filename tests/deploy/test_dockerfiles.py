"""Each service's Dockerfile: multi-stage, locked, only its own dependencies, non-root, healthy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "gateway": 8000,
    "ingest": 8001,
    "analyzer": 8002,
    "embedder": 8003,
    "search": 8004,
    "chat": 8005,
}


def _dockerfile(service: str) -> str:
    return (ROOT / "services" / service / "Dockerfile").read_text()


def _final_stage(text: str) -> str:
    return text.rsplit("\nFROM ", 1)[1]


@pytest.mark.parametrize("service", SERVICES)
def test_build_is_multi_stage_from_the_workspace(service: str) -> None:
    """A build stage syncs this package's locked, non-dev dependencies, then its source."""
    text = _dockerfile(service)
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, re.MULTILINE)
    # uv, build, runtime; the analyzer adds stages that convert its ImageNet classifier and
    # install its Node object tagger.
    expected = (
        ["uv", "build", "classifier", "tagger", "runtime"]
        if service == "analyzer"
        else ["uv", "build", "runtime"]
    )
    assert expected == stages
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert [
        f"--locked --no-install-workspace --package collections-{service} --no-dev",
        f"--locked --no-editable --package collections-{service} --no-dev",
    ] == syncs
    assert f"COPY services/{service}/src services/{service}/src" in text
    copied_sources = re.findall(r"^COPY services/(\w+)/src", text, re.MULTILINE)
    assert [service] == copied_sources


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_stage_is_slim_and_non_root(service: str) -> None:
    """The final stage is slim Python 3.11 with only the venv, running as uid 10001."""
    text = _dockerfile(service)
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    final = _final_stage(text)
    assert final.startswith("${PYTHON_IMAGE} AS runtime")
    users = re.findall(r"^USER (\S+)", final, re.MULTILINE)
    assert ["10001:10001"] == users
    assert "COPY --from=build /app/.venv /app/.venv" in final
    assert "uv" not in re.sub(r"#.*", "", final.replace("/app/.venv", ""))


@pytest.mark.parametrize(("service", "port"), SERVICES.items())
def test_service_listens_on_all_interfaces_and_is_health_checked(service: str, port: int) -> None:
    """HOST is 0.0.0.0 inside the container, the port is the service's, HEALTHCHECK hits it."""
    final = _final_stage(_dockerfile(service))
    upper = service.upper()
    assert f"{upper}_HOST=0.0.0.0" in final
    assert f"{upper}_PORT={port}" in final
    assert f"COLLECTIONS_SERVICE={service}" in final
    assert f"EXPOSE {port}" in final
    assert re.search(r'HEALTHCHECK .*\n\s+CMD \["python", "/app/healthcheck.py"\]', final)
    assert f'CMD ["python", "-m", "collections_{service}"]' in final


def test_only_the_analyzer_image_carries_tesseract() -> None:
    """OCR needs Tesseract in the analyzer; every other image stays without apt packages."""
    for service in SERVICES:
        has_apt = "apt-get install" in _dockerfile(service)
        assert (service == "analyzer") == has_apt, service
    assert "tesseract-ocr tesseract-ocr-eng" in _dockerfile("analyzer")


def test_dockerignore_sends_what_the_dockerfiles_copy_and_nothing_else() -> None:
    """The build context is whitelisted; every COPY source is on the list, .venv is not."""
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert "*" == lines[0]
    allowed = [line.removeprefix("!").rstrip("/") for line in lines if line.startswith("!")]
    for service in SERVICES:
        for source in re.findall(r"^COPY (?!--from)(.+) \S+$", _dockerfile(service), re.MULTILINE):
            for path in source.split():
                assert any(
                    Path(path).match(pattern) or path.startswith(pattern) for pattern in allowed
                ), path
    assert not any(".venv" in pattern or "deploy/cdk.out" in pattern for pattern in allowed)


@pytest.mark.parametrize("service", SERVICES)
def test_service_images_leave_the_dev_tooling_out(service: str) -> None:
    """Only the devtools manifest is copied (uv checks the whole lock), never its code."""
    text = _dockerfile(service)
    assert "COPY devtools/pyproject.toml devtools/" in text
    assert "devtools/src" not in text
    assert "collections-devtools" not in text


def test_only_embedder_and_search_images_carry_the_embedding_runtime() -> None:
    """collections-embeddings (onnxruntime, the MiniLM model) is copied where it is used."""
    for service in SERVICES:
        copies = "COPY embeddings/src embeddings/src" in _dockerfile(service)
        assert (service in {"embedder", "search"}) == copies, service
