"""Entry point: ``python -m collections_analyzer`` (or the ``collections-analyzer`` script)."""

from collections_shared.server import service_main

main = service_main(__package__ or "collections_analyzer")

if __name__ == "__main__":
    main()
