"""Entry point: ``python -m collections_embedder`` (or the ``collections-embedder`` script)."""

from collections_shared.server import service_main

main = service_main(__package__ or "collections_embedder")

if __name__ == "__main__":
    main()
