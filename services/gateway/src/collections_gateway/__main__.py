"""Entry point: ``python -m collections_gateway`` (or the ``collections-gateway`` script)."""

from collections_shared.server import service_main

main = service_main(__package__ or "collections_gateway")

if __name__ == "__main__":
    main()
