"""Settings of the ingest service: environment variables, `INGEST_`-prefixed ones win."""

from __future__ import annotations

from collections_shared.settings import CommonSettings, Port

ENV_PREFIX = "INGEST_"


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8001
