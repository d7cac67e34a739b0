"""Settings of the gateway service: environment variables, `GATEWAY_`-prefixed ones win."""

from __future__ import annotations

from collections_shared.settings import CommonSettings, Port

ENV_PREFIX = "GATEWAY_"


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8000
