"""Collections search service (HTTP, internal)."""
