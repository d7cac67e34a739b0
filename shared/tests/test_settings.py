"""Settings come from the environment and fail fast, naming the bad variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collections_shared.settings import CommonSettings, ConfigError, Port, parse_settings


class ServiceSettings(CommonSettings, frozen=True, kw_only=True):
    port: Port = 8000
    concurrency: int = 4


def test_defaults_apply_when_environment_is_empty() -> None:
    """With no variables set every field takes its documented default."""
    settings = parse_settings(ServiceSettings, env={})
    assert 8000 == settings.port
    assert settings.aws_endpoint_url is None


def test_prefixed_variable_wins_over_unprefixed() -> None:
    """``SEARCH_PORT`` overrides ``PORT`` for the search service."""
    settings = parse_settings(
        ServiceSettings, env={"PORT": "1", "SEARCH_PORT": "8004"}, prefix="SEARCH_"
    )
    assert 8004 == settings.port


def test_strings_are_converted_to_field_types() -> None:
    """Environment strings become ints (msgspec's lax mode)."""
    assert 12 == parse_settings(ServiceSettings, env={"CONCURRENCY": "12"}).concurrency


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORT": "eighty"}, "SEARCH_PORT"),
        ({"PORT": "70000"}, "SEARCH_PORT"),
        ({"CONCURRENCY": "x"}, "SEARCH_CONCURRENCY"),
    ],
)
def test_invalid_value_names_the_variable(env: dict[str, str], variable: str) -> None:
    """A bad value is reported with the variable to fix."""
    with pytest.raises(ConfigError, match=variable):
        parse_settings(ServiceSettings, env=env, prefix="SEARCH_")


@pytest.mark.integration  # a service in a child interpreter
def test_service_with_bad_configuration_exits_2_with_one_line() -> None:
    """A service started with a bad variable prints one line naming it and exits with code 2."""
    result = subprocess.run(
        [sys.executable, "-m", "collections_search"],
        env={"SEARCH_PORT": "not-a-port", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 2 == result.returncode
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines)
    assert "SEARCH_PORT" in lines[0]
