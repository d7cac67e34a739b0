"""Entry point: ``python -m collections_chat`` (or the ``collections-chat`` script)."""

from collections_shared.server import service_main

main = service_main(__package__ or "collections_chat")

if __name__ == "__main__":
    main()
