"""Settings of the gateway: environment variables, ``GATEWAY_``-prefixed ones win."""

from __future__ import annotations

from typing import Annotated

import msgspec

from collections_shared.settings import CommonSettings, Port, PositiveInt

ENV_PREFIX = "GATEWAY_"

MiB = 1024 * 1024


class Settings(CommonSettings, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Port = 8000
    search_url: str = "http://127.0.0.1:8004"
    """The internal search service; the gateway forwards the caller's token to it."""
    chat_url: str = "http://127.0.0.1:8005"
    max_upload_bytes: Annotated[int, msgspec.Meta(ge=1, le=5 * 1024 * MiB)] = 25 * MiB
    """Larger uploads get 413 (also the presigned POST's content-length-range)."""
    presign_expiry_seconds: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 15 * 60
    url_expiry_seconds: Annotated[int, msgspec.Meta(ge=60, le=7 * 24 * 3600)] = 3600
    """Lifetime of the presigned thumbnail/preview/original GET URLs."""
    public_s3_endpoint: str = ""
    """S3 address for browsers when it differs from the services' (an emulator behind a proxy);
    presigned URLs are signed for it. Leave empty on AWS."""
    cors_origins: str = ""
    """Comma-separated allowlist of browser origins; empty disables CORS."""
    openapi_enabled: bool = True
    """Serve ``/schema``; turn off in production if the API is not public."""
    local_signup_auto_confirm: bool = False
    """Confirm new users at once (the local stack); production pools send a code instead."""
    rate_limit_per_minute: PositiveInt = 100
    daily_upload_quota: PositiveInt = 5000
    daily_llm_quota: PositiveInt = 2000
    """Searches with ``answer``/``agentic`` mode and chat messages count against this."""
    share_rate_limit_per_minute: PositiveInt = 600
    """Requests per minute to one album link (a page of thumbnails is a request per image)."""
    public_url: str = ""
    """The web UI's address as users reach it, for album links; empty: the request's own."""
    upstream_timeout_seconds: float = 60.0

    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]
