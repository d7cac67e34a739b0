"""Settings of the embedder service: environment variables, `EMBEDDER_`-prefixed ones win."""

from __future__ import annotations

from collections_shared.settings import CommonSettings, Port

ENV_PREFIX = "EMBEDDER_"


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8003
