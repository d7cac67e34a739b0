"""Fixtures for real dependencies (PostgreSQL + pgvector, the AWS emulator) for every suite."""

pytest_plugins = ["collections_devtools.testing.fixtures"]
