"""The `collections` command-line client."""
