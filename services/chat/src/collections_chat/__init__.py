"""Collections chat service (HTTP, internal)."""
