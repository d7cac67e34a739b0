"""``python -m collections_cli``: the same as the ``collections`` command."""

from collections_cli.main import run

if __name__ == "__main__":
    run()
