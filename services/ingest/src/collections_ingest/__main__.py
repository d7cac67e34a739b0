"""Entry point: ``python -m collections_ingest``."""

from __future__ import annotations

from collections_ingest.app import create_app
from collections_ingest.settings import ENV_PREFIX, Settings
from collections_shared.logging import configure_logging
from collections_shared.server import serve
from collections_shared.settings import load_settings


def main() -> None:
    """Load settings (exit 2 if invalid), then serve until SIGTERM."""
    settings = load_settings(Settings, prefix=ENV_PREFIX)
    configure_logging("ingest", settings.log_level, settings.log_format)
    serve(create_app(settings), service="ingest", host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
