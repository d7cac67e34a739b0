"""Collections embedder service (SQS worker)."""
