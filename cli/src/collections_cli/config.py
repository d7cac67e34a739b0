"""Where the CLI finds its server and keeps the tokens of each server it is logged in to.

Tokens live in ``$COLLECTIONS_CONFIG_DIR/sessions.json`` (default ``~/.config/collections/``),
keyed by the server's URL, so a token is only ever sent to the server that issued it. The folder
is created ``0700`` and the file written ``0600`` (atomically: a crash leaves the old file).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from collections_cli.errors import CliError

DEFAULT_API = "http://127.0.0.1:8000"
_SESSIONS_FILE = "sessions.json"


def api_url(option: str | None) -> str:
    """``--api``, else ``COLLECTIONS_API``, else the local stack's gateway."""
    url = (option or os.environ.get("COLLECTIONS_API") or DEFAULT_API).strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"the server URL must start with http:// or https://, not {url!r}")
    return url


def config_dir() -> Path:
    configured = os.environ.get("COLLECTIONS_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".config" / "collections"


@dataclass
class Session:
    email: str
    access_token: str
    refresh_token: str | None
    expires_at: float
    """Unix time after which the access token is refreshed before use."""

    def expired(self, margin: float = 30.0) -> bool:
        return time.time() >= self.expires_at - margin


class TokenStore:
    """Sessions per server URL in one private JSON file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / _SESSIONS_FILE

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise CliError(
                f"cannot read {self.path}: {error}; delete it and log in again"
            ) from error
        return data if isinstance(data, dict) else {}

    def load(self, api: str) -> Session | None:
        entry = self._read().get(api)
        if not isinstance(entry, dict):
            return None
        try:
            return Session(
                email=str(entry["email"]),
                access_token=str(entry["access_token"]),
                refresh_token=str(entry["refresh_token"]) if entry.get("refresh_token") else None,
                expires_at=float(entry["expires_at"]),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError):
            return None

    def save(self, api: str, session: Session) -> None:
        sessions = self._read()
        sessions[api] = asdict(session)
        self._write(sessions)

    def forget(self, api: str) -> bool:
        sessions = self._read()
        if api not in sessions:
            return False
        del sessions[api]
        self._write(sessions)
        return True

    def _write(self, sessions: dict[str, dict[str, object]]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".sessions-")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w") as stream:
                json.dump(sessions, stream, indent=2)
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
