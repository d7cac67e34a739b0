"""`make up`'s stack: starts healthy, refuses a second copy, and keeps state across a restart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from collections_shared.aws import AwsClients
from collections_shared.devstack.stack import SERVICES, LocalStack, StackConfig, StackError
from collections_shared.testing.stack import stack_config

pytestmark = [pytest.mark.slow, pytest.mark.stack]

PASSWORD = "Correct-Horse-9"


@pytest.fixture(name="home")
def fx_home(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(name="running")
async def fx_running(home: Path) -> AsyncIterator[LocalStack]:
    stack = LocalStack(stack_config(home))
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


async def test_all_services_report_healthy(running: LocalStack) -> None:
    """Every service answers /health with 200 and lists its dependencies."""
    async with httpx.AsyncClient() as http:
        for service in SERVICES:
            response = await http.get(f"{running.url(service)}/health")
            assert 200 == response.status_code, (service, response.text)
            assert "ok" == response.json()["status"]


async def test_second_stack_on_the_same_state_refuses_to_start(running: LocalStack) -> None:
    """A second `make up` while one runs says so instead of fighting over ports and data."""
    second = LocalStack(StackConfig(home=running.config.home, echo_logs=False))
    with pytest.raises(StackError, match="already running"):
        await second.start()


async def test_port_in_use_is_named(home: Path) -> None:
    """If a needed port is taken, the error names the port and who needs it."""
    config = stack_config(home)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", config.port("search")))
        squatter.listen()
        stack = LocalStack(config)
        with pytest.raises(StackError, match=f"port {config.port('search')} .*search"):
            await stack.start()
        await stack.stop()


async def _sign_up_and_store(stack: LocalStack) -> tuple[str, str]:
    assert stack.outputs is not None
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    async with aws.client("cognito-idp") as cognito, aws.client("s3") as s3:
        sub = (
            await cognito.sign_up(
                ClientId=stack.outputs.app_client_id, Username="keep@example.com", Password=PASSWORD
            )
        )["UserSub"]
        await cognito.admin_confirm_sign_up(
            UserPoolId=stack.outputs.user_pool_id, Username="keep@example.com"
        )
        key = f"{sub}/images/kept.jpg"
        await s3.put_object(Bucket="collections-images", Key=key, Body=b"bytes that must survive")
    return sub, key


async def _login_sub(stack: LocalStack) -> str:
    assert stack.outputs is not None
    aws = AwsClients(region="us-east-1", endpoint_url=stack.config.aws_endpoint)
    async with aws.client("cognito-idp") as cognito:
        result = await cognito.initiate_auth(
            ClientId=stack.outputs.app_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "keep@example.com", "PASSWORD": PASSWORD},
        )
        user = await cognito.get_user(AccessToken=result["AuthenticationResult"]["AccessToken"])
    return str(user["Username"])


async def test_account_and_objects_survive_a_restart(home: Path) -> None:
    """Sign up and store an object, stop, start again: same user (same sub), same bytes."""
    config = stack_config(home)
    stack = LocalStack(config)
    try:
        first_start = await stack.start()
        sub, key = await _sign_up_and_store(stack)
        pool_before = stack.outputs.user_pool_id if stack.outputs else ""
    finally:
        await stack.stop()

    again = LocalStack(config)
    try:
        second_start = await again.start()
        assert again.outputs is not None
        assert pool_before == again.outputs.user_pool_id
        assert sub == await _login_sub(again)
        aws = AwsClients(region="us-east-1", endpoint_url=config.aws_endpoint)
        async with aws.client("s3") as s3:
            body = await (await s3.get_object(Bucket="collections-images", Key=key))["Body"].read()
        assert b"bytes that must survive" == body
    finally:
        await again.stop()
    print(f"first start {first_start:.1f}s, second start {second_start:.1f}s")  # noqa: T201


async def test_killed_service_is_restarted(running: LocalStack) -> None:
    """A service that dies is started again by the stack, as ECS would."""
    process = running.processes["search"]
    process.kill()
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            await asyncio.sleep(0.2)
            try:
                if (
                    await http.get(f"{running.url('search')}/health")
                ).status_code == 200 and process.restarts:
                    break
            except httpx.HTTPError:
                continue
    assert 1 == process.restarts
