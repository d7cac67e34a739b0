"""Collections gateway service (HTTP, public)."""
