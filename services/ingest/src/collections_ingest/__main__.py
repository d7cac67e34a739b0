"""Entry point: ``python -m collections_ingest`` (or the ``collections-ingest`` script)."""

from collections_shared.server import service_main

main = service_main(__package__ or "collections_ingest")

if __name__ == "__main__":
    main()
