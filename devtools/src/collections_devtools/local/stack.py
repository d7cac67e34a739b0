"""The whole system on one machine: PostgreSQL, the AWS emulator, provisioning, six services."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import httpx

from collections_devtools.local.postgres import (
    DATABASE,
    EmbeddedPostgres,
    bin_dir,
    new_password,
    run_as,
)
from collections_devtools.local.processes import Console, ManagedProcess, ProcessSpec
from collections_devtools.local.readiness import StackError, wait_for_http, wait_for_postgres
from collections_devtools.provision import StackOutputs, StackSpec, provision
from collections_shared.aws import AwsClients
from collections_shared.migrate import APP_ROLE, migrate

SERVICES = ("gateway", "ingest", "analyzer", "embedder", "search", "chat")
AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@dataclass
class StackConfig:
    home: Path = field(default_factory=lambda: Path(os.environ.get("COLLECTIONS_HOME", ".local")))
    base_port: int = field(
        default_factory=lambda: int(os.environ.get("COLLECTIONS_BASE_PORT", "8000"))
    )
    pg_port: int = field(default_factory=lambda: int(os.environ.get("COLLECTIONS_PG_PORT", "5433")))
    pg_shared_buffers: str = field(
        default_factory=lambda: os.environ.get("COLLECTIONS_PG_SHARED_BUFFERS", "128MB")
    )
    """PostgreSQL's buffer cache (its default; RDS gives an instance a quarter of its memory)."""
    aws_port: int = field(
        default_factory=lambda: int(os.environ.get("COLLECTIONS_AWS_PORT", "4566"))
    )
    external_database_url: str | None = field(
        default_factory=lambda: os.environ.get("DATABASE_URL")
    )
    external_aws_endpoint: str | None = field(
        default_factory=lambda: os.environ.get("AWS_ENDPOINT_URL")
    )
    echo_logs: bool = True
    health_timeout: float = 300.0
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = self.home.resolve()

    def port(self, service: str) -> int:
        return self.base_port + SERVICES.index(service)

    @property
    def aws_endpoint(self) -> str:
        return self.external_aws_endpoint or f"http://127.0.0.1:{self.aws_port}"


def _with_credentials(dsn: str, user: str, password: str) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class LocalStack:
    """Starts, supervises and stops the local system."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.console = Console(self.config.home / "logs", echo=self.config.echo_logs)
        self.processes: dict[str, ManagedProcess] = {}
        self.outputs: StackOutputs | None = None
        self._lock_file: IO[str] | None = None
        self._secrets: dict[str, str] = {}
        self._postgres: EmbeddedPostgres | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> float:
        """Bring everything up and wait until all six services are healthy; returns seconds."""
        started = time.monotonic()
        self.config.home.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        self._check_ports()
        self._secrets = self._load_secrets()
        owner_dsn = await self._start_database()
        await migrate(owner_dsn, app_password=self._secrets["app_password"])
        await self._start_emulator()
        self.outputs = await self._provision()
        for service in SERVICES:
            await self._start(self._service_spec(service))
        await self._wait_healthy()
        return time.monotonic() - started

    async def stop(self) -> None:
        """Stop services first, then the emulator (it snapshots), then PostgreSQL."""
        services = [self.processes[name] for name in SERVICES if name in self.processes]
        await asyncio.gather(*(process.stop() for process in services))
        for name in ("aws", "postgres"):
            if name in self.processes:
                await self.processes[name].stop()
        self.console.say("stopped")
        self.console.close()
        if self._lock_file:
            self._lock_file.close()
            self._lock_file = None

    async def _start(self, spec: ProcessSpec) -> ManagedProcess:
        process = ManagedProcess(spec, self.console)
        self.processes[spec.name] = process
        await process.start()
        return process

    # --- preflight -------------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        path = self.config.home / "stack.lock"
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            msg = (
                f"Collections is already running from {self.config.home} (pid {owner}); "
                "stop it with Ctrl-C in its terminal first"
            )
            raise StackError(msg) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def _needed_ports(self) -> dict[int, str]:
        ports = {self.config.port(service): service for service in SERVICES}
        if not self.config.external_database_url:
            ports[self.config.pg_port] = "PostgreSQL (COLLECTIONS_PG_PORT)"
        if not self.config.external_aws_endpoint:
            ports[self.config.aws_port] = "the AWS emulator (COLLECTIONS_AWS_PORT)"
        return ports

    def _check_ports(self) -> None:
        for port, user in self._needed_ports().items():
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError as error:
                    if error.errno != errno.EADDRINUSE:
                        raise
                    msg = (
                        f"port {port} is already in use and {user} needs it; stop the process "
                        "using it, or move the services with COLLECTIONS_BASE_PORT"
                    )
                    raise StackError(msg) from error

    def _load_secrets(self) -> dict[str, str]:
        path = self.config.home / "secrets.json"
        if path.exists():
            secrets: dict[str, str] = json.loads(path.read_text())
            return secrets
        secrets = {"postgres_password": new_password(), "app_password": new_password()}
        path.touch(mode=0o600)
        path.write_text(json.dumps(secrets))
        return secrets

    # --- PostgreSQL --------------------------------------------------------------------------

    async def _start_database(self) -> str:
        if self.config.external_database_url:
            return self.config.external_database_url
        postgres = EmbeddedPostgres(
            data_dir=self.config.home / "postgres",
            port=self.config.pg_port,
            password=self._secrets["postgres_password"],
            shared_buffers=self.config.pg_shared_buffers,
        )
        self._postgres = postgres
        changed = await asyncio.to_thread(postgres.initialise)
        for directory in changed:
            self.console.say(
                f"made {directory} traversable (o+x) for the PostgreSQL server account"
            )
        spec = ProcessSpec(
            name="postgres",
            argv=postgres.server_command(),
            env={"PATH": str(bin_dir()), "LC_ALL": "C.UTF-8"},
            stop_signal=signal.SIGINT,
            credentials=run_as(),
            before_start=postgres.prepare_start,
        )
        await self._start(spec)
        await wait_for_postgres(postgres.admin_dsn())
        await postgres.ensure_database()
        return postgres.admin_dsn(DATABASE)

    def owner_database_url(self) -> str:
        """The schema owner's DSN (migrations, admin tasks, tests that count rows)."""
        return self.config.external_database_url or (
            self._postgres.admin_dsn(DATABASE) if self._postgres else ""
        )

    def app_database_url(self) -> str:
        return _with_credentials(self.owner_database_url(), APP_ROLE, self._secrets["app_password"])

    # --- AWS emulator -----------------------------------------------------------------------

    async def _start_emulator(self) -> None:
        if self.config.external_aws_endpoint:
            return
        spec = ProcessSpec(
            name="aws",
            argv=[
                sys.executable,
                "-m",
                "collections_devtools.local.emulator",
                "--port",
                str(self.config.aws_port),
                "--state",
                str(self.config.home / "aws-state.pickle"),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            after_restart=self._reprovision,
        )
        await self._start(spec)
        await wait_for_http(f"{self.config.aws_endpoint}/moto-api/", "the AWS emulator", 60)

    async def _reprovision(self) -> None:
        await wait_for_http(f"{self.config.aws_endpoint}/moto-api/", "the AWS emulator", 60)
        await self._provision()

    async def _provision(self) -> StackOutputs:
        os.environ.update(AWS_TEST_CREDENTIALS if not self.config.external_aws_endpoint else {})
        aws = AwsClients(region="us-east-1", endpoint_url=self.config.aws_endpoint)
        spec = StackSpec(
            cors_origins=(
                f"http://127.0.0.1:{self.config.base_port}",
                f"http://localhost:{self.config.base_port}",
            )
        )
        outputs = await provision(aws, spec)
        (self.config.home / "stack.json").write_text(outputs.to_json())
        return outputs

    # --- services ---------------------------------------------------------------------------

    def service_env(self, service: str) -> dict[str, str]:
        assert self.outputs is not None
        env = (
            {**os.environ, **AWS_TEST_CREDENTIALS}
            if not self.config.external_aws_endpoint
            else dict(os.environ)
        )
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "LOG_FORMAT": "json",
                "DATABASE_URL": self.app_database_url(),
                "AWS_ENDPOINT_URL": self.config.aws_endpoint,
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "COGNITO_USER_POOL_ID": self.outputs.user_pool_id,
                "COGNITO_CLIENT_ID": self.outputs.app_client_id,
                "SEARCH_URL": f"http://127.0.0.1:{self.config.port('search')}",
                "CHAT_URL": f"http://127.0.0.1:{self.config.port('chat')}",
                "CORS_ORIGINS": f"http://127.0.0.1:{self.config.base_port},http://localhost:{self.config.base_port}",
                f"{service.upper()}_PORT": str(self.config.port(service)),
                "LOCAL_SIGNUP_AUTO_CONFIRM": "true",
            }
        )
        for queue, url in self.outputs.queue_urls.items():
            env[f"{queue.removeprefix('collections-').upper()}_QUEUE_URL"] = url
        env.update(self.config.extra_env)
        return env

    def _service_spec(self, service: str) -> ProcessSpec:
        return ProcessSpec(
            name=service,
            argv=[sys.executable, "-m", f"collections_{service}"],
            env=self.service_env(service),
        )

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.config.port(service)}"

    def _unhealthy(self, pending: list[str]) -> str:
        """Which services never answered, with their restarts and last log lines: a test's
        stack lives in a temporary folder that is gone by the time anyone reads the failure."""
        lines = [
            f"not healthy after {self.config.health_timeout:.0f}s: {', '.join(pending)} "
            f"(see {self.console.log_dir})"
        ]
        for name in pending:
            process = self.processes.get(name)
            restarts = process.restarts if process else 0
            log = self.console.log_dir / f"{name}.log"
            tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
            lines += [f"--- {name}: {restarts} restarts, last log lines:", *tail]
        return "\n".join(lines)

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.config.health_timeout
        pending = set(SERVICES)
        async with httpx.AsyncClient(timeout=2) as http:
            while pending:
                for service in sorted(pending):
                    try:
                        response = await http.get(f"{self.url(service)}/health")
                    except httpx.HTTPError:
                        continue
                    if response.status_code == 200:
                        pending.discard(service)
                if pending and time.monotonic() > deadline:
                    raise StackError(self._unhealthy(sorted(pending)))
                if pending:
                    await asyncio.sleep(0.25)
