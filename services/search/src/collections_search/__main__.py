"""Entry point: ``python -m collections_search`` (or the ``collections-search`` script)."""

from collections_shared.server import service_main

main = service_main(__package__ or "collections_search")

if __name__ == "__main__":
    main()
