"""``python -m collections_cli``: the same as the ``collections`` command."""

from collections_cli.main import run

run()
